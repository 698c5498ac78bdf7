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

#[test]
fn new_keys_are_bounded_and_denied_when_the_store_is_full() {
    ratelimit::new_keys_are_bounded(Wasmesh, "deny");
}

#[test]
fn new_keys_are_bounded_and_allowed_when_the_store_is_full() {
    ratelimit::new_keys_are_bounded(Wasmesh, "allow");
}
