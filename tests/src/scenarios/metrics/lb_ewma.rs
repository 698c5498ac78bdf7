//! The `lb` filter's `lb_ewma_ms` gauge, in the chain the demo uses (`metrics` then `lb` then an
//! `original_dst` cluster): the slow endpoint's estimate shows its delay, the fast one's does
//! not, and only `peak_ewma` publishes it. The metrics filter's per-endpoint counter sees the
//! endpoints `lb` picked.

use std::time::Duration;

use serde_json::{json, Value};
use wasmesh_common::metrics::LATENCY_BUCKETS_MS;
use wasmesh_contract::exposition as prometheus;

use crate::client::Client;
use crate::{
    build_filters, poll_until, Backend, Cluster, Listener, MeshConfig, Plugin, ProxyKind, Route,
};

const PICK_HEADER: &str = "x-envoy-original-dst-host";
/// The slow endpoint's added delay.
const SLOW_MS: u64 = 60;
/// Requests after which the slow endpoint must have been tried.
const MAX_REQUESTS: usize = 200;

fn chain(lb: Value) -> MeshConfig {
    let filters = build_filters();
    MeshConfig::new()
        .workers(1)
        .plugin(Plugin::new("metrics", &filters.metrics).configuration(json!({})))
        .plugin(Plugin::new("lb", &filters.lb).configuration(lb))
        .cluster(Cluster::original_dst("dynamic", PICK_HEADER))
        .listener(
            Listener::new("main")
                .filter("metrics")
                .filter("lb")
                .route(Route::prefix("/", "dynamic")),
        )
        .histogram_buckets("response_latency_ms", &LATENCY_BUCKETS_MS)
}

/// `peak_ewma` over a fast and a slow (+60 ms) endpoint: after at least 20 requests (and one
/// to the slow endpoint) both estimates are published, the slow one at least 60 ms and the fast
/// one below it; under `round_robin` there is no `lb_ewma_ms` at all. Every request is counted
/// per endpoint by the metrics filter.
pub fn lb_publishes_the_ewma_estimate(kind: ProxyKind) {
    let host = kind.name();
    let fast = Backend::start("fast");
    let slow = Backend::start("slow").with_delay(Duration::from_millis(SLOW_MS));
    let endpoints =
        json!([{ "address": fast.addr.to_string() }, { "address": slow.addr.to_string() }]);
    let proxy = kind.start(&chain(
        json!({ "service": "web", "policy": "peak_ewma", "endpoints": endpoints }),
    ));
    let client = Client::http1();
    // P2C only tries the slow endpoint when its estimate looks cheaper, which takes a few
    // requests at most (tried once, it is then avoided): send until it has answered once.
    let mut sent = 0;
    while sent < 20 || slow.requests_seen() == 0 {
        assert!(
            sent < MAX_REQUESTS,
            "{host}: the slow endpoint was never picked"
        );
        let response = client.get(&proxy.url("main", "/"), &[]);
        assert_eq!(response.status, 200, "{host}: {}", response.text());
        sent += 1;
    }
    let estimate = |text: &str, addr: &str| {
        prometheus::value(
            text,
            "lb_ewma_ms",
            &[("service", "web"), ("endpoint", addr)],
        )
    };
    let (fast_addr, slow_addr) = (fast.addr.to_string(), slow.addr.to_string());
    poll_until(
        &format!("{host}: lb_ewma_ms and endpoint_response_total"),
        Duration::from_secs(10),
        || {
            let text = proxy.admin_get("/stats/prometheus").text();
            let (f, s) = (estimate(&text, &fast_addr), estimate(&text, &slow_addr));
            let counted: f64 = prometheus::samples(&text)
                .iter()
                .filter(|s| s.name == "endpoint_response_total")
                .filter(|s| [&fast_addr, &slow_addr].contains(&&s.labels["endpoint"]))
                .map(|s| s.value)
                .sum();
            match (f, s) {
                (Some(f), Some(s)) if s >= SLOW_MS as f64 && f < s && counted == sent as f64 => {
                    Ok(())
                }
                _ => Err(format!(
                    "fast {f:?}, slow {s:?}, per-endpoint responses {counted}:\n{text}"
                )),
            }
        },
    );
    drop(proxy);
    let proxy = kind.start(&chain(
        json!({ "service": "web", "policy": "round_robin", "endpoints": endpoints }),
    ));
    for _ in 0..4 {
        assert_eq!(
            client.get(&proxy.url("main", "/"), &[]).status,
            200,
            "{host}"
        );
    }
    let text = proxy.admin_get("/stats/prometheus").text();
    assert!(
        text.contains("lb_requests_total") && !text.contains("lb_ewma_ms"),
        "{host}: round_robin publishes no estimate:\n{text}"
    );
}
