//! Spill-over: 4 endpoints at priority 0 (`p0a`…`p0d`), 2 at priority 1 (`p1a`, `p1b`); 2 of
//! priority 0 killed and ejected → priority 0's health is 2/4 × 1.4 = 70 %, so 30 % of the
//! picks spill to priority 1 (Envoy's model).

use std::time::Duration;

use serde_json::json;

use super::{await_load, level_gauge, mesh, outlier, picks_during, share_of, Member};
use crate::load::Load;
use crate::ProxyKind;

/// Long enough that nothing returns during the test.
const EJECTION_MS: u64 = 60_000;
/// How far the measured share of priority 1 may be from 30 % (random draws per request: with
/// thousands of picks the standard deviation is about 1 %).
const TOLERANCE: f64 = 0.05;

/// See the module documentation; prints the measured share.
pub fn half_of_p0_ejected_spills_thirty_percent(kind: ProxyKind) {
    let host = kind.name();
    let mut members: Vec<Member> = [("p0a", 0), ("p0b", 0), ("p0c", 0), ("p0d", 0)]
        .into_iter()
        .chain([("p1a", 1), ("p1b", 1)])
        .map(|(name, priority)| Member::start(name, json!({ "priority": priority })))
        .collect();
    let proxy = kind.start(&mesh(&members, json!({}), outlier(EJECTION_MS, 50)));
    let load = Load::start(proxy.listener("main"), "/spill", "x-backend", 8);
    await_load(&proxy, 0, 100.0, Duration::from_secs(5));

    members[0].kill();
    members[1].kill();
    let to_spill = await_load(&proxy, 1, 30.0, Duration::from_secs(5));
    assert_eq!(
        level_gauge(&proxy, "lb_priority_load", 0),
        Some(70.0),
        "{host}: priority 0's load"
    );
    let settle = Duration::from_millis(300);
    let window = picks_during(&proxy, &members, settle, Duration::from_secs(3));
    let report = load.stop();
    let total: f64 = window.values().sum();
    let spilled = share_of(&window, "p1");
    eprintln!(
        "{host}: 2 of 4 priority-0 endpoints killed → loads 70/30 after {to_spill:?}; over 3 s, \
         {total} picks, {:.1} % to priority 1: {window:?}; client: {} ok, {} failed",
        100.0 * spilled,
        report.ok.len(),
        report.failures.len()
    );
    assert!(total >= 300.0, "{host}: only {total} picks in 3 s");
    assert_eq!(
        window["p0a"] + window["p0b"],
        0.0,
        "{host}: ejected endpoints picked: {window:?}"
    );
    assert!(
        (spilled - 0.30).abs() <= TOLERANCE,
        "{host}: {:.1} % spilled to priority 1, expected 30 % ± {} %: {window:?}",
        100.0 * spilled,
        100.0 * TOLERANCE
    );
}
