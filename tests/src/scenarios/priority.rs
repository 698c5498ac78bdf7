//! Priority levels and zones in the `lb` filter (`filters/lb`, model in
//! `filters/common/src/lb/priority.rs`): Envoy's priority load with overprovisioning factor 1.4
//! and panic threshold 50 %, driven by the ejections of the `failover` filter's outlier
//! detection (killed backends are ejected after 5 consecutive gateway failures).
//!
//! Chain of the failover scenarios ([`failover::chain`]): `failover` → `lb` → `original_dst`,
//! both plugins in VM id `mesh` (shared data), one worker. Where the traffic goes is read from `lb`'s own
//! `lb_requests_total{service,endpoint}` (its picks, retries excluded) and its
//! `lb_priority_load{service,priority}` / `lb_panic{service,priority}` gauges.

mod panic;
mod spill;
mod zone;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use serde_json::{json, Value};
use wasmesh_contract::exposition as prometheus;

pub use panic::{panic_disabled_keeps_traffic_on_the_survivors, panic_spreads_over_every_endpoint};
pub use spill::half_of_p0_ejected_spills_thirty_percent;
pub use zone::{primary_zone_down_fails_over_and_back, retries_stay_in_the_local_zone};

use super::failover::{self, assert_refused, merged};
use crate::{poll_until, Backend, BackendHandle, MeshConfig, Proxy, ProxyKind};

/// A started backend and how it is listed (`{"address", "priority"|"zone"}`).
struct Member {
    backend: Option<BackendHandle>,
    addr: SocketAddr,
    name: String,
    entry: Value,
}

impl Member {
    /// Starts backend `name`, listed as `entry` plus its address.
    fn start(name: &str, mut entry: Value) -> Self {
        let backend = Backend::start(name);
        let addr = backend.addr;
        entry["address"] = json!(addr.to_string());
        Self {
            backend: Some(backend),
            addr,
            name: name.to_string(),
            entry,
        }
    }

    /// Stops the backend: connections to its port are refused from now on.
    fn kill(&mut self) {
        drop(self.backend.take());
    }
}

/// `failover` (`failover_extra` merged in) → `lb` (round robin, `lb_extra` merged in) over
/// `members`, service `web`: [`failover::chain`].
fn mesh(members: &[Member], lb_extra: Value, failover_extra: Value) -> MeshConfig {
    let list: Vec<Value> = members.iter().map(|m| m.entry.clone()).collect();
    let lb = json!({ "service": "web", "policy": "round_robin", "endpoints": list });
    let failover = json!({ "service": "web", "cluster": "dynamic", "endpoints": list });
    failover::chain(merged(failover, failover_extra), merged(lb, lb_extra))
}

/// Outlier detection with base ejection time `ejection_ms`, of up to `max_percent` of the
/// set (`failover`'s configuration).
fn outlier(ejection_ms: u64, max_percent: u32) -> Value {
    json!({ "outlier": { "base_ejection_time_ms": ejection_ms,
                         "max_ejection_percent": max_percent } })
}

/// `lb`'s picks so far per member name (`lb_requests_total`).
fn picks(proxy: &Proxy, members: &[Member]) -> BTreeMap<String, f64> {
    let text = proxy.admin_get("/stats/prometheus").text();
    members
        .iter()
        .map(|m| {
            let endpoint = m.addr.to_string();
            let labels = [("service", "web"), ("endpoint", endpoint.as_str())];
            let value = prometheus::value(&text, "lb_requests_total", &labels).unwrap_or(0.0);
            (m.name.clone(), value)
        })
        .collect()
}

/// Picks between two [`picks`] snapshots.
fn picks_between(
    before: &BTreeMap<String, f64>,
    after: &BTreeMap<String, f64>,
) -> BTreeMap<String, f64> {
    after
        .iter()
        .map(|(name, v)| (name.clone(), v - before.get(name).copied().unwrap_or(0.0)))
        .collect()
}

/// `lb`'s picks per member during `window`, after `settle` (the last ejection's effect
/// reaching `lb`, which re-reads the health document every 100 ms).
fn picks_during(
    proxy: &Proxy,
    members: &[Member],
    settle: Duration,
    window: Duration,
) -> BTreeMap<String, f64> {
    std::thread::sleep(settle);
    let before = picks(proxy, members);
    std::thread::sleep(window);
    picks_between(&before, &picks(proxy, members))
}

/// Sum of `tally` over the names starting with `prefix`.
fn share_of(tally: &BTreeMap<String, f64>, prefix: &str) -> f64 {
    let total: f64 = tally.values().sum();
    let part: f64 = tally
        .iter()
        .filter(|(name, _)| name.starts_with(prefix))
        .map(|(_, v)| v)
        .sum();
    if total == 0.0 {
        0.0
    } else {
        part / total
    }
}

/// The level gauge `name` (`lb_priority_load` or `lb_panic`) of `priority`.
fn level_gauge(proxy: &Proxy, name: &str, priority: u32) -> Option<f64> {
    let text = proxy.admin_get("/stats/prometheus").text();
    let priority = priority.to_string();
    prometheus::value(
        &text,
        name,
        &[("service", "web"), ("priority", priority.as_str())],
    )
}

/// Polls until `lb_priority_load{priority}` reads `want`; returns how long that took.
fn await_load(proxy: &Proxy, priority: u32, want: f64, within: Duration) -> Duration {
    let host = proxy.kind.name();
    let started = std::time::Instant::now();
    poll_until(
        &format!("{host}: lb_priority_load{{priority=\"{priority}\"}} = {want}"),
        within,
        || match level_gauge(proxy, "lb_priority_load", priority) {
            Some(v) if v == want => Ok(started.elapsed()),
            other => Err(format!("{other:?}")),
        },
    )
}

/// A bad priority setting names the filter and the field, and the host refuses to start.
pub fn bad_config_names_the_field(kind: ProxyKind) {
    let members = [Member::start("a1", json!({ "zone": "a" }))];
    let empty_zone = json!({ "local_zone": "" });
    for (filter, extra, field) in [
        ("lb", json!({ "panic_threshold": 150 }), "panic_threshold"),
        (
            "lb",
            json!({ "overprovisioning_factor": 0 }),
            "overprovisioning_factor",
        ),
        ("lb", empty_zone.clone(), "local_zone"),
        ("failover", empty_zone, "local_zone"),
    ] {
        let config = match filter {
            "lb" => mesh(&members, extra, json!({})),
            _ => mesh(&members, json!({}), extra),
        };
        let needle = format!("{filter}: invalid configuration: {field}: ");
        assert_refused(kind, &config, &needle);
    }
}
