//! The `ratelimit` filter in real Envoy: the reference for `wasmesh_ratelimit.rs`.

use wasmesh_tests::scenarios::ratelimit;
use wasmesh_tests::ProxyKind::Envoy;

#[test]
fn limits_per_key() {
    ratelimit::limits_per_key(Envoy);
}

#[test]
fn local_reply_passes_earlier_filters() {
    ratelimit::local_reply_passes_earlier_filters(Envoy);
}

#[test]
fn limited_request_is_counted_by_metrics() {
    ratelimit::limited_request_is_counted_by_metrics(Envoy);
}

#[test]
fn new_keys_are_bounded_and_denied_when_the_store_is_full() {
    ratelimit::new_keys_are_bounded(Envoy, "deny");
}

#[test]
fn new_keys_are_bounded_and_allowed_when_the_store_is_full() {
    ratelimit::new_keys_are_bounded(Envoy, "allow");
}
