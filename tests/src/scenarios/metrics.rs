//! The `metrics` filter (`filters/metrics`): Linkerd-style golden metrics read back from each
//! host's `/stats/prometheus` as a Prometheus user sees them, trace headers as the upstream sees
//! them, and the access-log line in the proxy's log.
//!
//! One worker everywhere: label caps are per worker (per VM), so exact series counts are only
//! promised per worker. Envoy publishes histograms at each stats flush (the rig sets 1 s), so
//! metric assertions poll.

use std::time::Duration;

use serde_json::{json, Value};
use wasmesh_common::exposition as prometheus;
use wasmesh_common::metrics::LATENCY_BUCKETS_MS;

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
type Expected<'a> = (&'a str, Vec<(&'a str, &'a str)>, f64);

/// Polls `/stats/prometheus` until every expected sample has its value; panics listing the ones
/// that do not (with the exposition) after 10 s.
fn assert_samples(proxy: &Proxy, expected: &[Expected<'_>]) {
    let host = proxy.kind.name();
    poll_until(
        &format!("{host}: the expected metrics"),
        Duration::from_secs(10),
        || {
            let text = proxy.admin_get("/stats/prometheus").text();
            let wrong: Vec<String> = expected
                .iter()
                .filter_map(|(name, labels, want)| {
                    let got = prometheus::value(&text, name, labels);
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
    let base = |route: &'static str| {
        vec![
            ("direction", "inbound"),
            ("authority", authority.as_str()),
            ("route", route),
        ]
    };
    let with = |route: &'static str, extra: &[(&'static str, &'static str)]| {
        let mut labels = base(route);
        labels.extend_from_slice(extra);
        labels
    };
    let ok = [("status_code", "200"), ("classification", "success")];
    let failed = [("status_code", "503"), ("classification", "failure")];
    let le = |bound: &'static str| {
        let mut labels = ok.to_vec();
        labels.push(("le", bound));
        labels
    };
    let expected: Vec<Expected> = vec![
        ("request_total", base("default"), 100.0),
        ("request_total", base("status"), 10.0),
        ("request_total", base("delay"), 5.0),
        ("response_total", with("default", &ok), 100.0),
        ("response_total", with("status", &failed), 10.0),
        ("response_total", with("delay", &ok), 5.0),
        (
            "response_latency_ms_bucket",
            with("default", &le("100")),
            100.0,
        ),
        (
            "response_latency_ms_bucket",
            with("default", &le("+Inf")),
            100.0,
        ),
        ("response_latency_ms_count", with("default", &ok), 100.0),
        ("response_latency_ms_bucket", with("delay", &le("100")), 0.0),
        (
            "response_latency_ms_bucket",
            with("delay", &le("+Inf")),
            5.0,
        ),
        ("response_latency_ms_count", with("status", &failed), 10.0),
        ("request_in_flight", base("default"), 0.0),
        ("request_in_flight", base("delay"), 0.0),
        (
            "endpoint_response_total",
            vec![
                ("endpoint", endpoint.as_str()),
                ("classification", "success"),
            ],
            105.0,
        ),
        (
            "endpoint_response_total",
            vec![
                ("endpoint", endpoint.as_str()),
                ("classification", "failure"),
            ],
            10.0,
        ),
    ];
    assert_samples(&rig.proxy, &expected);
    let text = rig.proxy.admin_get("/stats/prometheus").text();
    let sum = prometheus::value(&text, "response_latency_ms_sum", &with("delay", &ok))
        .unwrap_or_else(|| panic!("{}: no latency sum for route delay:\n{text}", kind.name()));
    assert!(
        sum >= 5.0 * 150.0,
        "{}: 5 × 150 ms summed to {sum}",
        kind.name()
    );
}
