//! Panic threshold: one level of 5 endpoints, 3 killed and ejected → 2 of 5 = 40 % healthy,
//! below the 50 % threshold: the level balances over all 5 again (ejected ones included), as
//! Envoy does rather than piling everything on the two survivors. With `panic_threshold: 0`
//! the same outage leaves all traffic on the survivors.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{json, Value};
use wasmesh_contract::exposition as prometheus;

use super::{level_gauge, mesh, outlier, picks_during, Member};
use crate::load::{Load, LoadReport};
use crate::{poll_until, ProxyKind};

/// Long enough that nothing returns during the test.
const EJECTION_MS: u64 = 60_000;

/// See the module documentation; prints the tally of picks.
pub fn panic_spreads_over_every_endpoint(kind: ProxyKind) {
    let host = kind.name();
    let (window, report) = three_of_five_ejected(kind, json!({}));
    let total: f64 = window.values().sum();
    eprintln!(
        "{host}: 3 of 5 killed and ejected → panic; picks over 2 s: {window:?} (total {total}); \
         client: {} ok, {} failed (the dead endpoints get their share again)",
        report.ok.len(),
        report.failures.len()
    );
    assert!(total >= 100.0, "{host}: only {total} picks in 2 s");
    for (name, picked) in &window {
        let share = picked / total;
        assert!(
            (0.15..=0.25).contains(&share),
            "{host}: {name} got {:.1} % of the picks in panic (round robin over 5: 20 %): \
             {window:?}",
            100.0 * share
        );
    }
}

/// The same outage with `panic_threshold: 0`: no panic, every pick on the two survivors.
pub fn panic_disabled_keeps_traffic_on_the_survivors(kind: ProxyKind) {
    let host = kind.name();
    let (window, report) = three_of_five_ejected(kind, json!({ "panic_threshold": 0 }));
    let total: f64 = window.values().sum();
    eprintln!(
        "{host}: 3 of 5 killed and ejected, panic disabled; picks over 2 s: {window:?}; \
         client: {} ok, {} failed",
        report.ok.len(),
        report.failures.len()
    );
    assert!(total >= 100.0, "{host}: only {total} picks in 2 s");
    assert_eq!(
        window["e4"] + window["e5"],
        total,
        "{host}: picks of ejected endpoints: {window:?}"
    );
}

/// Starts `e1`..`e5` (`lb_extra` in `lb`'s configuration), kills `e1`..`e3` under load, waits
/// for their ejections and returns `lb`'s picks over the next 2 s and what the clients saw.
fn three_of_five_ejected(kind: ProxyKind, lb_extra: Value) -> (BTreeMap<String, f64>, LoadReport) {
    let host = kind.name();
    let mut members: Vec<Member> = ["e1", "e2", "e3", "e4", "e5"]
        .into_iter()
        .map(|name| Member::start(name, json!({})))
        .collect();
    // Every endpoint but the last may be ejected. Client requests that land on a dead
    // endpoint in panic fail once failover's retry budget is spent: the picks are what these
    // tests look at.
    let panic_enabled = lb_extra.get("panic_threshold").is_none();
    let proxy = kind.start(&mesh(&members, lb_extra, outlier(EJECTION_MS, 100)));
    let load = Load::start(proxy.listener("main"), "/panic", "x-backend", 8);
    for member in &mut members[..3] {
        member.kill();
    }
    poll_until(
        &format!("{host}: e1..e3 ejected"),
        Duration::from_secs(5),
        || {
            let text = proxy.admin_get("/stats/prometheus").text();
            let ejected: Vec<bool> = members[..3]
                .iter()
                .map(|m| {
                    let endpoint = m.addr.to_string();
                    let labels = [("service", "web"), ("endpoint", endpoint.as_str())];
                    prometheus::value(&text, "failover_ejected", &labels) == Some(1.0)
                })
                .collect();
            if ejected.iter().all(|&e| e) {
                Ok(())
            } else {
                Err(format!("ejected: {ejected:?}"))
            }
        },
    );
    // lb sees the last ejection within its 100 ms refresh.
    let want = if panic_enabled { 1.0 } else { 0.0 };
    poll_until(
        &format!("{host}: lb_panic{{priority=\"0\"}} = {want}"),
        Duration::from_secs(2),
        || match level_gauge(&proxy, "lb_panic", 0) {
            Some(v) if v == want => Ok(()),
            other => Err(format!("{other:?}")),
        },
    );
    let window = picks_during(
        &proxy,
        &members,
        Duration::from_millis(300),
        Duration::from_secs(2),
    );
    (window, load.stop())
}
