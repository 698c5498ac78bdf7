//! Issue 4's zone test: the primary zone all down → traffic on the secondary within one
//! ejection; primary back → traffic back. `lb` and `failover` have `"local_zone": "a"`: `a1`,
//! `a2` (zone a) are level 0, `b1`, `b2` (zone b) level 1, which gets nothing while zone a is
//! healthy. And the retries of `failover` stay in zone a while it has a healthy endpoint.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::failover::Always503;
use super::failover::{answers_in, assert_back_after_ejection, assert_no_failures, merged};
use super::failover::{no_ejection, restart, retries};
use super::{await_load, mesh, outlier, picks, picks_during, share_of, Member};
use crate::load::Load;
use crate::{client, poll_until, Backend, ProxyKind};

/// Base ejection time: short, so the return is seen quickly.
const EJECTION_MS: u64 = 2_000;
/// Connections of the steady load.
const CONNECTIONS: usize = 16;

/// See the module documentation. Zero failed client requests throughout (the `failover`
/// filter retries the requests that hit a dead endpoint before its ejection); prints the times.
pub fn primary_zone_down_fails_over_and_back(kind: ProxyKind) {
    let host = kind.name();
    let mut members: Vec<Member> = [("a1", "a"), ("a2", "a"), ("b1", "b"), ("b2", "b")]
        .into_iter()
        .map(|(name, zone)| Member::start(name, json!({ "zone": zone })))
        .collect();
    // Both zone-a endpoints may be ejected at once (half of the set).
    let failover = merged(outlier(EJECTION_MS, 50), local_zone());
    let proxy = kind.start(&mesh(&members, local_zone(), failover));
    let load = Load::start(proxy.listener("main"), "/zone", "x-backend", CONNECTIONS);
    await_load(&proxy, 0, 100.0, Duration::from_secs(5));
    poll_until(
        &format!("{host}: zone a serves"),
        Duration::from_secs(10),
        || match picks(&proxy, &members) {
            p if p["a1"] > 0.0 && p["a2"] > 0.0 => Ok(()),
            p => Err(format!("{p:?}")),
        },
    );
    let healthy = picks(&proxy, &members);
    assert_eq!(
        share_of(&healthy, "b"),
        0.0,
        "{host}: zone b got picks while zone a was healthy: {healthy:?}"
    );

    members[0].kill();
    members[1].kill();
    let to_failover = await_load(&proxy, 1, 100.0, Duration::from_secs(5));
    let failed_over_at = Instant::now();
    // From then on lb picks zone b only: no pick of zone a over the next 800 ms.
    let while_down = picks_during(&proxy, &members, Duration::ZERO, Duration::from_millis(800));

    for member in &mut members[..2] {
        let addr = member.addr;
        let name = member.name.clone();
        member.backend = Some(restart(host, &name, addr));
    }
    let to_return = await_load(&proxy, 0, 100.0, Duration::from_millis(EJECTION_MS + 5_000));
    let back_after = failed_over_at.elapsed();
    // A second of steady load with zone a back: every answer from zone a.
    std::thread::sleep(Duration::from_millis(300));
    let returned_at = Instant::now();
    std::thread::sleep(Duration::from_secs(1));
    let report = load.stop();
    let (after, from_a) = answers_in(&report, returned_at..Instant::now(), |m| m.starts_with('a'));
    let down = failed_over_at..failed_over_at + Duration::from_millis(800);
    let (during, during_from_b) = answers_in(&report, down, |m| m.starts_with('b'));
    eprintln!(
        "{host}: {} ok, {} failed; zone a killed → lb_priority_load{{priority=1}} = 100 after \
         {to_failover:?}; then {} picks in 800 ms, {:.1} % to zone b ({during_from_b} of {} \
         answers from b); zone a restarted → back to priority 0 {back_after:?} after the \
         failover (polled {to_return:?}); then {from_a} of {} answers from zone a",
        report.ok.len(),
        report.failures.len(),
        while_down.values().sum::<f64>(),
        100.0 * share_of(&while_down, "b"),
        during,
        after,
    );
    assert_no_failures(host, &report);
    assert!(
        to_failover < Duration::from_secs(2),
        "{host}: zone b got all traffic {to_failover:?} after the kill"
    );
    assert!(
        while_down.values().sum::<f64>() > 0.0 && share_of(&while_down, "b") == 1.0,
        "{host}: picks while zone a was ejected: {while_down:?}"
    );
    assert_eq!(
        during_from_b, during,
        "{host}: answers while zone a was down"
    );
    assert_back_after_ejection(host, "zone a", back_after, EJECTION_MS, 300);
    assert!(
        after > 0 && from_a == after,
        "{host}: {from_a} of {after} answers from zone a after its return"
    );
}

/// `"local_zone": "a"`, in `lb`'s and `failover`'s configurations alike.
fn local_zone() -> Value {
    json!({ "local_zone": "a" })
}

/// GETs sent by [`retries_stay_in_the_local_zone`]: half land on the 503 and are retried.
const GETS: usize = 20;

/// `a1` (zone a) answers every request 503, `a2` (zone a), `b1` and `b2` (zone b) are healthy;
/// outlier detection off, so only retries are at work. `lb` (`local_zone: a`) sends first
/// tries round robin to `a1` and `a2`. With `failover`'s `local_zone: a` too, every retry of
/// `a1`'s 503 goes to `a2`: all answers from `a2`, zone b sees no request. Without it (the
/// contrast, a second proxy over the same backends), a retry picks among every other
/// priority-0 endpoint, and zone b gets some of the retries (all ten on `a2` would have a
/// chance of 3⁻¹⁰).
pub fn retries_stay_in_the_local_zone(kind: ProxyKind) {
    let host = kind.name();
    let bad = Always503::start();
    let a2 = Backend::start("a2");
    let b = [Backend::start("b1"), Backend::start("b2")];
    let mut members = vec![Member {
        backend: None,
        addr: bad.addr,
        name: "a1".to_string(),
        entry: json!({ "address": bad.addr.to_string(), "zone": "a" }),
    }];
    for (backend, zone) in [(&a2, "a"), (&b[0], "b"), (&b[1], "b")] {
        members.push(Member {
            backend: None,
            addr: backend.addr,
            name: backend.name().to_string(),
            entry: json!({ "address": backend.addr.to_string(), "zone": zone }),
        });
    }
    let zone_b = || b.iter().map(|b| b.requests_seen()).sum::<u64>();
    let answered_by = |failover: Value| -> Vec<String> {
        let proxy = kind.start(&mesh(&members, local_zone(), failover));
        let backends: Vec<String> = (0..GETS)
            .map(|i| {
                let response = client::get(&proxy.url("main", "/zone-retry"), &[]);
                assert_eq!(response.status, 200, "{host}: GET {i}: {}", response.text());
                response.echo().backend
            })
            .collect();
        let retried = retries(&proxy);
        assert_eq!(retried, (GETS / 2) as f64, "{host}: retries of a1's 503s");
        backends
    };

    let with_zone = answered_by(merged(no_ejection(), local_zone()));
    let to_b_with = zone_b();
    let without_zone = answered_by(no_ejection());
    let to_b_without = zone_b() - to_b_with;
    let from_a2 = with_zone.iter().filter(|name| *name == "a2").count();
    eprintln!(
        "{host}: {GETS} GETs, {} retried each run; with failover's local_zone: {from_a2} of \
         {GETS} answers from a2, {to_b_with} requests to zone b; without: {to_b_without} of {} \
         retries to zone b",
        GETS / 2,
        GETS / 2
    );
    assert_eq!(
        bad.requests(),
        GETS as u64,
        "{host}: round robin gave a1 half, twice"
    );
    assert_eq!(
        from_a2, GETS,
        "{host}: answers with failover's local_zone: {with_zone:?}"
    );
    assert_eq!(
        to_b_with, 0,
        "{host}: zone b got retries with local_zone set"
    );
    assert!(
        to_b_without > 0 && without_zone.iter().any(|name| name.starts_with('b')),
        "{host}: without failover's local_zone no retry left zone a: {without_zone:?}"
    );
}
