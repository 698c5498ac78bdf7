//! The `ratelimit` filter through wasmesh: the same scenarios as `envoy_ratelimit.rs`.

use wasmesh_tests::scenarios::ratelimit;
use wasmesh_tests::ProxyKind::Wasmesh;

#[test]
fn limits_per_key() {
    ratelimit::limits_per_key(Wasmesh);
}

#[test]
fn local_reply_passes_earlier_filters() {
    ratelimit::local_reply_passes_earlier_filters(Wasmesh);
}

#[test]
fn limited_request_is_counted_by_metrics() {
    ratelimit::limited_request_is_counted_by_metrics(Wasmesh);
}
