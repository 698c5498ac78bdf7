//! Issue 4's zone test: the primary zone all down → traffic on the secondary within one
//! ejection; primary back → traffic back. `lb` has `"local_zone": "a"`: `a1`, `a2` (zone a)
//! are level 0, `b1`, `b2` (zone b) level 1, which gets nothing while zone a is healthy.

use std::time::{Duration, Instant};

use serde_json::json;

use super::{await_load, mesh, picks, picks_during, share_of, Member};
use crate::load::Load;
use crate::{poll_until, Backend, ProxyKind};

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
    let outlier = json!({ "base_ejection_time_ms": EJECTION_MS, "max_ejection_percent": 50 });
    let proxy = kind.start(&mesh(&members, json!({ "local_zone": "a" }), outlier));
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
        member.backend = Some(poll_until(
            &format!("{host}: restarting {name} on {addr}"),
            Duration::from_secs(5),
            || Backend::start_on(&name, addr).map_err(|e| e.to_string()),
        ));
    }
    let to_return = await_load(&proxy, 0, 100.0, Duration::from_millis(EJECTION_MS + 5_000));
    let back_after = failed_over_at.elapsed();
    // A second of steady load with zone a back: every answer from zone a.
    std::thread::sleep(Duration::from_millis(300));
    let returned_at = Instant::now();
    std::thread::sleep(Duration::from_secs(1));
    let report = load.stop();
    let after: Vec<_> = report.ok.iter().filter(|s| s.at > returned_at).collect();
    let from_a = after
        .iter()
        .filter(|s| s.marker.as_deref().is_some_and(|m| m.starts_with('a')))
        .count();
    let during: Vec<_> = report
        .ok
        .iter()
        .filter(|s| s.at > failed_over_at && s.at < failed_over_at + Duration::from_millis(800))
        .collect();
    let during_from_b = during
        .iter()
        .filter(|s| s.marker.as_deref().is_some_and(|m| m.starts_with('b')))
        .count();
    eprintln!(
        "{host}: {} ok, {} failed; zone a killed → lb_priority_load{{priority=1}} = 100 after \
         {to_failover:?}; then {} picks in 800 ms, {:.1} % to zone b ({during_from_b} of {} \
         answers from b); zone a restarted → back to priority 0 {back_after:?} after the \
         failover (polled {to_return:?}); then {from_a} of {} answers from zone a",
        report.ok.len(),
        report.failures.len(),
        while_down.values().sum::<f64>(),
        100.0 * share_of(&while_down, "b"),
        during.len(),
        after.len(),
    );
    assert!(
        report.failures.is_empty(),
        "{host}: {} failed requests, e.g. {:?}",
        report.failures.len(),
        &report.failures[..report.failures.len().min(10)]
    );
    assert!(
        to_failover < Duration::from_secs(2),
        "{host}: zone b got all traffic {to_failover:?} after the kill"
    );
    assert!(
        while_down.values().sum::<f64>() > 0.0 && share_of(&while_down, "b") == 1.0,
        "{host}: picks while zone a was ejected: {while_down:?}"
    );
    assert_eq!(
        during_from_b,
        during.len(),
        "{host}: answers while zone a was down"
    );
    let ejection = Duration::from_millis(EJECTION_MS);
    assert!(
        back_after >= ejection - Duration::from_millis(300),
        "{host}: zone a back {back_after:?} after the failover, before its ejection ended"
    );
    assert!(
        !after.is_empty() && from_a == after.len(),
        "{host}: {from_a} of {} answers from zone a after its return",
        after.len()
    );
}
