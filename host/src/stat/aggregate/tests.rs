use std::time::{Duration, Instant};

use super::*;
use crate::stat::By;

/// An exposition as the metrics and lb filters render it: `web`/`api` with 100 successes, 10
/// failures (503) and latencies in the (1,2] and (100,200] buckets; `web`/`static` idle.
fn exposition(scale: f64) -> String {
    let n = |v: f64| v * scale;
    let route = r#"direction="inbound",authority="web",route="api""#;
    let ok = format!(r#"{route},status_code="200",classification="success""#);
    let failed = format!(r#"{route},status_code="503",classification="failure""#);
    format!(
        "# TYPE request_total counter\n\
         request_total{{{route}}} {}\n\
         request_total{{direction=\"inbound\",authority=\"web\",route=\"static\"}} 0\n\
         # TYPE response_total counter\n\
         response_total{{{ok}}} {}\n\
         response_total{{{failed}}} {}\n\
         # TYPE response_latency_ms histogram\n\
         response_latency_ms_bucket{{{ok},le=\"1\"}} 0\n\
         response_latency_ms_bucket{{{ok},le=\"2\"}} {}\n\
         response_latency_ms_bucket{{{ok},le=\"100\"}} {}\n\
         response_latency_ms_bucket{{{ok},le=\"200\"}} {}\n\
         response_latency_ms_bucket{{{ok},le=\"+Inf\"}} {}\n\
         response_latency_ms_bucket{{{failed},le=\"1\"}} 0\n\
         response_latency_ms_bucket{{{failed},le=\"2\"}} {}\n\
         response_latency_ms_bucket{{{failed},le=\"100\"}} {}\n\
         response_latency_ms_bucket{{{failed},le=\"200\"}} {}\n\
         response_latency_ms_bucket{{{failed},le=\"+Inf\"}} {}\n\
         # TYPE request_in_flight gauge\n\
         request_in_flight{{{route}}} 3\n\
         # TYPE lb_requests_total counter\n\
         lb_requests_total{{service=\"web\",endpoint=\"10.0.0.1:80\"}} {}\n\
         lb_requests_total{{service=\"web\",endpoint=\"10.0.0.2:80\"}} {}\n\
         lb_failures_total{{service=\"web\",endpoint=\"10.0.0.2:80\"}} {}\n\
         # TYPE lb_ewma_ms gauge\n\
         lb_ewma_ms{{service=\"web\",endpoint=\"10.0.0.1:80\"}} 4.5\n\
         # TYPE wasmesh_requests_total counter\n\
         wasmesh_requests_total 999\n",
        n(110.0),
        n(100.0),
        n(10.0),
        n(95.0),
        n(95.0),
        n(100.0),
        n(100.0),
        n(5.0),
        n(5.0),
        n(10.0),
        n(10.0),
        n(30.0),
        n(80.0),
        n(10.0),
    )
}

fn snapshot(scale: f64, at: Instant) -> Snapshot {
    Snapshot::parse(&exposition(scale), By::AuthorityRoute, at)
}

#[test]
fn cumulative_rows_count_everything_since_start() {
    let rows = route_rows(None, &snapshot(1.0, Instant::now()));
    assert_eq!(rows.len(), 2, "{rows:?}");
    let api = &rows[0];
    assert_eq!(
        (api.key.authority.as_str(), api.key.route.as_str()),
        ("web", "api")
    );
    assert_eq!(api.responses, 110.0);
    assert!((api.success.unwrap() - 100.0 / 110.0).abs() < 1e-12);
    assert_eq!(api.rps, None, "no window, no rate");
    // 100 of 110 in (1,2]: p50 at rank 55 → 1 + 55/100; p95 at rank 104.5 → 4.5 of the 10 in
    // (100,200]; p99 at rank 108.9 → 8.9 of them.
    let [p50, p95, p99] = api.latency.map(Option::unwrap);
    assert!((p50 - 1.55).abs() < 1e-9, "{p50}");
    assert!((p95 - 145.0).abs() < 1e-9, "{p95}");
    assert!((p99 - 189.0).abs() < 1e-9, "{p99}");
    assert_eq!(api.in_flight, 3.0);
    let idle = &rows[1];
    assert_eq!(idle.key.route, "static");
    assert_eq!((idle.success, idle.latency), (None, [None; 3]));
}

#[test]
fn a_window_counts_only_what_happened_between_the_scrapes() {
    let start = Instant::now();
    let before = snapshot(1.0, start);
    let after = snapshot(3.0, start + Duration::from_secs(2));
    let rows = route_rows(Some(&before), &after);
    let api = &rows[0];
    assert_eq!(api.responses, 220.0);
    assert_eq!(api.rps, Some(110.0));
    assert!((api.success.unwrap() - 200.0 / 220.0).abs() < 1e-12);
    assert!((api.latency[2].unwrap() - 189.0).abs() < 1e-9);
    let same = route_rows(Some(&after), &snapshot(3.0, start + Duration::from_secs(3)));
    assert_eq!((same[0].rps, same[0].success), (None, None), "no traffic");
    assert_eq!(same[0].latency, [None; 3]);
}

#[test]
fn a_restarted_proxy_counts_from_zero_again() {
    let start = Instant::now();
    let rows = route_rows(
        Some(&snapshot(3.0, start)),
        &snapshot(1.0, start + Duration::from_secs(1)),
    );
    assert_eq!(rows[0].responses, 110.0);
    assert!((rows[0].latency[2].unwrap() - 189.0).abs() < 1e-9);
}

#[test]
fn grouping_by_authority_adds_up_its_routes() {
    let snapshot = Snapshot::parse(&exposition(1.0), By::Authority, Instant::now());
    let rows = route_rows(None, &snapshot);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(
        (rows[0].key.authority.as_str(), rows[0].key.route.as_str()),
        ("web", "")
    );
    assert_eq!(rows[0].responses, 110.0);
}

#[test]
fn endpoint_rows_share_their_services_requests() {
    let rows = endpoint_rows(None, &snapshot(1.0, Instant::now()));
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].key.endpoint, "10.0.0.1:80");
    assert_eq!(rows[0].requests, 30.0);
    assert_eq!(rows[0].share, Some(30.0 / 110.0));
    assert_eq!(rows[0].ewma_ms, Some(4.5));
    assert_eq!(rows[1].failures, 10.0);
    assert_eq!(rows[1].share, Some(80.0 / 110.0));
    assert_eq!(rows[1].ewma_ms, None);
}
