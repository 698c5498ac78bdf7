//! Real traffic through real proxies, then `wasmesh stat --cumulative` against their admin:
//! the metrics filter's route table after a known mix, and the lb filter's endpoint table —
//! each through wasmesh and through Envoy.

use std::time::Duration;

use serde_json::json;
use wasmesh_common::metrics::LATENCY_BUCKETS_MS;
use wasmesh_tests::client::Client;
use wasmesh_tests::{
    build_filters, client, poll_until, Backend, Cluster, Listener, MeshConfig, Plugin, ProxyKind,
    Route,
};

use super::{rows, stat, stdout};

/// Polls `wasmesh stat <args>` until its rows satisfy `check` (Envoy publishes histograms at its
/// 1 s stats flush), panicking with the last output after 10 s.
fn poll_stat(kind: ProxyKind, args: &[&str], check: impl Fn(&[Vec<String>]) -> bool) -> String {
    poll_until(
        &format!("{}: wasmesh stat {args:?}", kind.name()),
        Duration::from_secs(10),
        || {
            let output = stat(args);
            let text = stdout(&output);
            if output.status.success() && check(&rows(&text)) {
                Ok(text)
            } else {
                Err(format!("{output:?}\n{text}"))
            }
        },
    )
}

/// A latency cell (`1.6ms`, `189ms`) in ms; NaN for `-` (no histogram published yet).
fn ms(cell: &str) -> f64 {
    cell.strip_suffix("ms")
        .and_then(|n| n.parse().ok())
        .unwrap_or(f64::NAN)
}

/// 100 fast 200s (route `default`), 10 × 503 (`status`) and 5 × 150 ms (`delay`) through the
/// metrics filter; `wasmesh stat --cumulative` shows each route's success rate and count, the
/// slow route's percentiles inside (100, 200] ms interpolated as `histogram_quantile` does, and
/// `--by authority` the whole mix in one row.
fn route_table_after_a_traffic_mix(kind: ProxyKind) {
    let backend = Backend::start("b1");
    let plugin = Plugin::new("metrics", &build_filters().metrics).configuration(json!({
        "routes": [{ "name": "status", "prefix": "/status/" }, { "name": "delay", "path": "/delay" }],
    }));
    let config = MeshConfig::single(vec![plugin], [backend.addr])
        .workers(1)
        .histogram_buckets("response_latency_ms", &LATENCY_BUCKETS_MS);
    let proxy = kind.start(&config);
    let client = Client::http1();
    let send = |path: &str, status: u16| {
        let response = client.get(&proxy.url("main", path), &[]);
        assert_eq!(response.status, status, "{}: GET {path}", kind.name());
    };
    (0..100).for_each(|i| send(&format!("/fast?i={i}"), 200));
    (0..10).for_each(|_| send("/status/503", 503));
    (0..5).for_each(|_| send("/delay?ms=150", 200));
    let admin = proxy.admin.to_string();
    let authority = proxy.listener("main").to_string();
    let text = poll_stat(kind, &["--cumulative", "--admin", &admin], |rows| {
        rows.len() == 3 && rows.iter().all(|r| r[7] == "0" && r[4] != "-")
    });
    let rows = rows(&text);
    let cells = |i: usize, range: std::ops::Range<usize>| rows[i][range].to_vec();
    assert_eq!(
        cells(0, 0..4),
        [&authority, "default", "100.00%", "100"],
        "{text}"
    );
    assert_eq!(
        cells(1, 0..4),
        [&authority, "delay", "100.00%", "5"],
        "{text}"
    );
    assert_eq!(
        cells(2, 0..4),
        [&authority, "status", "0.00%", "10"],
        "{text}"
    );
    // Five answers in (100, 200] ms: p50 half way, p95 and p99 near the top.
    assert_eq!(cells(1, 4..7), ["150ms", "195ms", "199ms"], "{text}");
    for row in [0, 2] {
        let p99 = ms(&rows[row][6]);
        assert!(p99 > 0.0 && p99 <= 100.0, "fast answers' p99 {p99}: {text}");
    }
    // 5 of 115 answers were slow: p99 (rank 113.85) falls among them, p50 does not. Envoy may
    // have published only some of the slow ones at its last flush (then p99 is still among the
    // fast ones), so this polls too.
    let slow_p99 = |row: &[String]| {
        row.len() == 7 && ms(&row[3]) <= 100.0 && (100.0..=200.0).contains(&ms(&row[5]))
    };
    let by_authority = ["--cumulative", "--by", "authority", "--admin", &admin];
    let text = poll_stat(kind, &by_authority, |r| r.len() == 1 && slow_p99(&r[0]));
    assert_eq!(
        super::rows(&text)[0][..3],
        [&authority, "91.30%", "115"],
        "105 of 115 succeeded: {text}"
    );
}

/// Round robin over three backends through the lb filter, then `wasmesh stat --endpoints
/// --cumulative` against that host's admin shows 10 requests and a third of the share each.
fn endpoints_after_lb_traffic(kind: ProxyKind) {
    let backends: Vec<_> = ["b1", "b2", "b3"].into_iter().map(Backend::start).collect();
    let endpoints: Vec<_> = backends
        .iter()
        .map(|b| json!({ "address": b.addr.to_string() }))
        .collect();
    let plugin = Plugin::new("lb", &build_filters().lb).configuration(json!({
        "service": "web", "policy": "round_robin", "endpoints": endpoints,
    }));
    let config = MeshConfig::new()
        .workers(1)
        .plugin(plugin)
        .cluster(Cluster::original_dst(
            "dynamic",
            "x-envoy-original-dst-host",
        ))
        .listener(
            Listener::new("main")
                .filter("lb")
                .route(Route::prefix("/", "dynamic")),
        );
    let proxy = kind.start(&config);
    for i in 0..30 {
        let response = client::get(&proxy.url("main", "/"), &[]);
        assert_eq!(response.status, 200, "{}: request {i}", kind.name());
    }
    let admin = proxy.admin.to_string();
    let mut sorted: Vec<String> = backends.iter().map(|b| b.addr.to_string()).collect();
    sorted.sort();
    let expected: Vec<Vec<String>> = sorted
        .iter()
        .map(|addr| {
            ["web", addr, "10", "33.33%", "0", "0", "-"]
                .map(String::from)
                .to_vec()
        })
        .collect();
    let args = ["--cumulative", "--endpoints", "--admin", &admin];
    poll_stat(kind, &args, |rows| rows == expected);
}

/// Before any request, a proxy with the metrics filter has no series to show (the filter
/// defines them on first use): `wasmesh stat` says so instead of suggesting the filter is
/// missing, and still exits 0.
fn no_traffic_yet(kind: ProxyKind) {
    let backend = Backend::start("b1");
    let plugin = Plugin::new("metrics", &build_filters().metrics);
    let config = MeshConfig::single(vec![plugin], [backend.addr]).workers(1);
    let proxy = kind.start(&config);
    let admin = proxy.admin.to_string();
    let output = stat(&["--cumulative", "--admin", &admin]);
    let text = stdout(&output);
    assert!(output.status.success(), "{}: {output:?}", kind.name());
    assert!(
        text.contains(&format!("no response_total at {admin}"))
            && text.contains("yet: no request has passed the metrics filter"),
        "{}: {text}",
        kind.name()
    );
}

wasmesh_tests::in_both_hosts!(
    route_table_after_a_traffic_mix,
    endpoints_after_lb_traffic,
    no_traffic_yet,
);
