//! The `metrics` filter through wasmesh: the same scenarios as
//! `envoy_metrics.rs`.

use wasmesh_tests::scenarios::metrics;
use wasmesh_tests::ProxyKind::Wasmesh;

#[test]
fn traffic_mix_is_counted_exactly() {
    metrics::traffic_mix_is_counted_exactly(Wasmesh);
}

#[test]
fn promtool_accepts_the_exposition() {
    metrics::promtool_accepts_the_exposition(Wasmesh);
}

#[test]
fn distinct_paths_and_hosts_stay_capped() {
    metrics::distinct_paths_and_hosts_stay_capped(Wasmesh);
}

#[test]
fn traceparent_is_continued_with_a_new_span() {
    metrics::traceparent_is_continued_with_a_new_span(Wasmesh);
}

#[test]
fn traceparent_is_started_when_absent_or_invalid() {
    metrics::traceparent_is_started_when_absent_or_invalid(Wasmesh);
}

#[test]
fn access_log_line_names_the_request() {
    metrics::access_log_line_names_the_request(Wasmesh);
}

#[test]
fn refused_upstream_is_a_503_failure() {
    metrics::refused_upstream_is_a_503_failure(Wasmesh);
}

#[test]
fn upstream_closing_mid_request_is_a_failure() {
    metrics::upstream_closing_mid_request_is_a_failure(Wasmesh);
}

#[test]
fn aborted_request_is_status_0_failure() {
    metrics::aborted_request_is_status_0_failure(Wasmesh);
}

#[test]
fn bad_config_is_refused_naming_the_field() {
    metrics::bad_config_is_refused_naming_the_field(Wasmesh);
}

#[test]
fn lb_publishes_the_ewma_estimate() {
    metrics::lb_publishes_the_ewma_estimate(Wasmesh);
}
