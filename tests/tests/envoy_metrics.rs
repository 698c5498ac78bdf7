//! The `metrics` filter in real Envoy (labels through `stats_tags`): the reference for
//! `wasmesh_metrics.rs`.

use wasmesh_tests::scenarios::metrics;
use wasmesh_tests::ProxyKind::Envoy;

#[test]
fn traffic_mix_is_counted_exactly() {
    metrics::traffic_mix_is_counted_exactly(Envoy);
}

#[test]
fn counts_from_every_worker_add_up() {
    metrics::counts_from_every_worker_add_up(Envoy);
}

#[test]
fn promtool_accepts_the_exposition() {
    metrics::promtool_accepts_the_exposition(Envoy);
}

#[test]
fn distinct_paths_and_hosts_stay_capped() {
    metrics::distinct_paths_and_hosts_stay_capped(Envoy);
}

#[test]
fn traceparent_is_continued_with_a_new_span() {
    metrics::traceparent_is_continued_with_a_new_span(Envoy);
}

#[test]
fn traceparent_is_started_when_absent_or_invalid() {
    metrics::traceparent_is_started_when_absent_or_invalid(Envoy);
}

#[test]
fn access_log_line_names_the_request() {
    metrics::access_log_line_names_the_request(Envoy);
}

#[test]
fn refused_upstream_is_a_503_failure() {
    metrics::refused_upstream_is_a_503_failure(Envoy);
}

#[test]
fn upstream_closing_mid_request_is_a_failure() {
    metrics::upstream_closing_mid_request_is_a_failure(Envoy);
}

#[test]
fn aborted_request_is_status_0_failure() {
    metrics::aborted_request_is_status_0_failure(Envoy);
}

#[test]
fn bad_config_is_refused_naming_the_field() {
    metrics::bad_config_is_refused_naming_the_field(Envoy);
}

#[test]
fn lb_publishes_the_ewma_estimate() {
    metrics::lb_publishes_the_ewma_estimate(Envoy);
}
