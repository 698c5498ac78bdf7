//! The `metrics` filter (`filters/metrics`): Linkerd-style golden metrics read back from each
//! host's `/stats/prometheus` as a Prometheus user sees them, trace headers as the upstream sees
//! them, and the access-log line in the proxy's log.
//!
//! One worker everywhere but in `workers.rs`: label caps are per worker (per VM), so exact series
//! counts are only promised per worker. Envoy publishes histograms at each stats flush (the rig sets 1 s), so
//! metric assertions poll.

mod cardinality;
mod failures;
mod lb_ewma;
mod promtool;
pub(crate) mod tracing;
mod workers;

pub use cardinality::distinct_paths_and_hosts_stay_capped;
pub use failures::{
    aborted_request_is_status_0_failure, bad_config_is_refused_naming_the_field,
    refused_upstream_is_a_503_failure, upstream_closing_mid_request_is_a_failure,
};
pub use lb_ewma::lb_publishes_the_ewma_estimate;
pub use promtool::promtool_accepts_the_exposition;
pub use tracing::{
    access_log_line_names_the_request, traceparent_is_continued_with_a_new_span,
    traceparent_is_started_when_absent_or_invalid,
};
pub use workers::{counts_from_every_worker_add_up, counts_outlive_the_vms_a_reload_replaces};

use std::time::Duration;

use serde_json::{json, Value};
use wasmesh_common::metrics::LATENCY_BUCKETS_MS;
use wasmesh_contract::exposition as prometheus;

use crate::client::Client;
use crate::{
    build_filters, poll_until, Backend, BackendHandle, MeshConfig, Plugin, Proxy, ProxyKind,
};

/// Routes of the scenarios' filter configuration: everything else is `default`.
fn config_with(extra: Value) -> Value {
    let mut config = json!({
        "routes": [
            { "name": "status", "prefix": "/status/" },
            { "name": "delay", "path": "/delay" },
            { "name": "users", "path": "/users/{id}" },
        ],
    });
    if let (Value::Object(into), Value::Object(extra)) = (&mut config, extra) {
        into.extend(extra);
    }
    config
}

/// The mesh every scenario starts from: listener `main` → `metrics` (with `config`) → the
/// static cluster `backend`, histograms with Linkerd's buckets.
fn mesh(config: Value, endpoints: impl IntoIterator<Item = std::net::SocketAddr>) -> MeshConfig {
    let plugin = Plugin::new("metrics", &build_filters().metrics).configuration(config);
    MeshConfig::single(vec![plugin], endpoints)
        .workers(1)
        .histogram_buckets("response_latency_ms", &LATENCY_BUCKETS_MS)
}

/// A backend and a proxy in front of it with the metrics filter configured by [`config_with`].
struct Rig {
    proxy: Proxy,
    backend: BackendHandle,
    client: Client,
}

impl Rig {
    fn start(kind: ProxyKind, extra: Value) -> Self {
        let backend = Backend::start("b1");
        let proxy = kind.start(&mesh(config_with(extra), [backend.addr]));
        Self {
            proxy,
            backend,
            client: Client::http1(),
        }
    }

    /// `GET path` on a kept-alive connection; the status.
    fn get(&self, path: &str) -> u16 {
        let response = self.client.get(&self.proxy.url("main", path), &[]);
        response.status.as_u16()
    }

    /// The `authority` label of requests sent by URL: the listener's `ip:port`.
    fn authority(&self) -> String {
        self.proxy.listener("main").to_string()
    }
}

/// One expected sample: name, labels, value.
type Expected = (&'static str, Labels, f64);

/// Labels of an expected sample.
type Labels = Vec<(&'static str, String)>;

/// `labels` as owned pairs.
fn labels(pairs: &[(&'static str, &str)]) -> Labels {
    pairs.iter().map(|(k, v)| (*k, v.to_string())).collect()
}

/// The labels every request-level series of route `route` carries, for `authority`.
fn request_labels(authority: &str, route: &str) -> Labels {
    labels(&[
        ("direction", "inbound"),
        ("authority", authority),
        ("route", route),
    ])
}

/// `base` plus `extra`.
fn plus(base: &Labels, extra: &[(&'static str, &str)]) -> Labels {
    let mut all = base.clone();
    all.extend(labels(extra));
    all
}

/// The one sample of `name` with `labels` in `text`, if exactly one matches.
fn value(text: &str, name: &str, labels: &Labels) -> Option<f64> {
    let pairs: Vec<(&str, &str)> = labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
    prometheus::value(text, name, &pairs)
}

/// Polls `/stats/prometheus` until every expected sample has its value; panics listing the ones
/// that do not (with the exposition) after 10 s.
fn assert_samples(proxy: &Proxy, expected: &[Expected]) {
    let host = proxy.kind.name();
    poll_until(
        &format!("{host}: the expected metrics"),
        Duration::from_secs(10),
        || {
            let text = proxy.admin_get("/stats/prometheus").text();
            let wrong: Vec<String> = expected
                .iter()
                .filter_map(|(name, labels, want)| {
                    let got = value(&text, name, labels);
                    (got != Some(*want))
                        .then(|| format!("{name}{labels:?}: got {got:?}, want {want}"))
                })
                .collect();
            if wrong.is_empty() {
                Ok(())
            } else {
                Err(format!("{}\n--- exposition ---\n{text}", wrong.join("\n")))
            }
        },
    );
}

/// 100 fast 200s, 10 × 503 and 5 × 150 ms: exact request and response counts per route,
/// status and classification; latency histogram counts in the right buckets (the fast ones
/// ≤ 100 ms, the slow ones never, all under +Inf); per-endpoint counts; in-flight back to 0.
pub fn traffic_mix_is_counted_exactly(kind: ProxyKind) {
    let rig = Rig::start(kind, json!({}));
    for i in 0..100 {
        assert_eq!(rig.get(&format!("/fast?i={i}")), 200);
    }
    for _ in 0..10 {
        assert_eq!(rig.get("/status/503"), 503);
    }
    for _ in 0..5 {
        assert_eq!(rig.get("/delay?ms=150"), 200);
    }
    let authority = rig.authority();
    let endpoint = rig.backend.addr.to_string();
    let (default, status, delay) = (
        request_labels(&authority, "default"),
        request_labels(&authority, "status"),
        request_labels(&authority, "delay"),
    );
    let ok = [("status_code", "200"), ("classification", "success")];
    let failed = [("status_code", "503"), ("classification", "failure")];
    let le = |base: &Labels, bound: &'static str| plus(&plus(base, &ok), &[("le", bound)]);
    let per_endpoint =
        |class: &'static str| labels(&[("endpoint", &endpoint), ("classification", class)]);
    let expected: Vec<Expected> = vec![
        ("request_total", default.clone(), 100.0),
        ("request_total", status.clone(), 10.0),
        ("request_total", delay.clone(), 5.0),
        ("response_total", plus(&default, &ok), 100.0),
        ("response_total", plus(&status, &failed), 10.0),
        ("response_total", plus(&delay, &ok), 5.0),
        ("response_latency_ms_bucket", le(&default, "100"), 100.0),
        ("response_latency_ms_bucket", le(&default, "+Inf"), 100.0),
        ("response_latency_ms_count", plus(&default, &ok), 100.0),
        ("response_latency_ms_bucket", le(&delay, "100"), 0.0),
        ("response_latency_ms_bucket", le(&delay, "+Inf"), 5.0),
        ("response_latency_ms_count", plus(&status, &failed), 10.0),
        ("request_in_flight", default, 0.0),
        ("request_in_flight", delay.clone(), 0.0),
        ("endpoint_response_total", per_endpoint("success"), 105.0),
        ("endpoint_response_total", per_endpoint("failure"), 10.0),
    ];
    assert_samples(&rig.proxy, &expected);
    let text = rig.proxy.admin_get("/stats/prometheus").text();
    let sum = value(&text, "response_latency_ms_sum", &plus(&delay, &ok))
        .unwrap_or_else(|| panic!("{}: no latency sum for route delay:\n{text}", kind.name()));
    assert!(
        sum >= 5.0 * 150.0,
        "{}: 5 × 150 ms summed to {sum}",
        kind.name()
    );
}
