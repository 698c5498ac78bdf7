//! Panic threshold: one level of 5 endpoints, 3 killed and ejected → 2 of 5 = 40 % healthy,
//! below the 50 % threshold: the level balances over all 5 again (ejected ones included), as
//! Envoy does rather than piling everything on the two survivors.

use std::time::Duration;

use serde_json::json;

use super::{level_gauge, mesh, picks_during, Member};
use crate::load::Load;
use crate::{poll_until, ProxyKind};

/// Long enough that nothing returns during the test.
const EJECTION_MS: u64 = 60_000;

/// See the module documentation; prints the tally of picks.
pub fn panic_spreads_over_every_endpoint(kind: ProxyKind) {
    let host = kind.name();
    let mut members: Vec<Member> = ["e1", "e2", "e3", "e4", "e5"]
        .into_iter()
        .map(|name| Member::start(name, json!({})))
        .collect();
    // Every endpoint but the last may be ejected. Client requests that land on a dead
    // endpoint in panic fail once failover's retry budget is spent: the picks are what this
    // test looks at.
    let outlier = json!({ "base_ejection_time_ms": EJECTION_MS, "max_ejection_percent": 100 });
    let proxy = kind.start(&mesh(&members, json!({}), outlier));
    let load = Load::start(proxy.listener("main"), "/panic", "x-backend", 8);
    for member in &mut members[..3] {
        member.kill();
    }
    poll_until(
        &format!("{host}: lb_panic{{priority=\"0\"}} = 1"),
        Duration::from_secs(5),
        || match level_gauge(&proxy, "lb_panic", 0) {
            Some(1.0) => Ok(()),
            other => Err(format!("{other:?}")),
        },
    );
    let settle = Duration::from_millis(300);
    let window = picks_during(&proxy, &members, settle, Duration::from_secs(2));
    let report = load.stop();
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
