//! The `lb` filter in real Envoy (an `ORIGINAL_DST` cluster with `use_http_header`): the
//! reference for `wasmesh_lb.rs`.

use wasmesh_tests::scenarios::lb;
use wasmesh_tests::ProxyKind::Envoy;

#[test]
fn round_robin_spreads_evenly() {
    lb::round_robin_spreads_evenly(Envoy);
}

#[test]
fn weighted_follows_weights() {
    lb::weighted_follows_weights(Envoy);
}

#[test]
fn ring_hash_is_sticky() {
    lb::ring_hash_is_sticky(Envoy);
}

#[test]
fn maglev_is_sticky() {
    lb::maglev_is_sticky(Envoy);
}

#[test]
fn maglev_by_cookie_is_sticky() {
    lb::maglev_by_cookie_is_sticky(Envoy);
}

#[test]
fn randomised_policies_reach_every_backend() {
    lb::randomised_policies_reach_every_backend(Envoy);
}

#[test]
fn peak_ewma_avoids_a_slow_endpoint() {
    lb::peak_ewma_avoids_a_slow_endpoint(Envoy);
}

#[test]
fn client_pick_header_is_overwritten() {
    lb::client_pick_header_is_overwritten(Envoy);
}

#[test]
fn refused_endpoint_is_a_released_failure() {
    lb::refused_endpoint_is_a_released_failure(Envoy);
}

#[test]
fn empty_endpoint_list_is_refused() {
    lb::empty_endpoint_list_is_refused(Envoy);
}

#[test]
fn no_endpoint_is_a_503() {
    lb::no_endpoint_is_a_503(Envoy);
}

#[test]
fn unreadable_shared_set_is_a_503() {
    lb::unreadable_shared_set_is_a_503(Envoy);
}

#[test]
fn two_workers_balance_and_count_together() {
    lb::two_workers_balance_and_count_together(Envoy);
}
