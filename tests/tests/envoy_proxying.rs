//! Plain proxying in real Envoy: the reference for `wasmesh_proxying.rs`.

use wasmesh_tests::scenarios::{proxying, upstream_pool};
use wasmesh_tests::ProxyKind::Envoy;

#[test]
fn routes_pick_clusters() {
    proxying::routes_pick_clusters(Envoy);
}

#[test]
fn original_dst_follows_the_filter() {
    proxying::original_dst_follows_the_filter(Envoy);
}

#[test]
fn upstream_h2c() {
    proxying::upstream_h2c(Envoy);
}

#[test]
fn streamed_response() {
    proxying::streamed_response(Envoy);
}

#[test]
fn large_request_body() {
    proxying::large_request_body(Envoy);
}

#[test]
fn large_response_body() {
    proxying::large_response_body(Envoy);
}

#[test]
fn route_timeout() {
    proxying::route_timeout(Envoy);
}

#[test]
fn connection_refused() {
    proxying::connection_refused(Envoy);
}

#[test]
fn keep_alive() {
    proxying::keep_alive(Envoy);
}

#[test]
fn hop_by_hop_headers_stay_behind() {
    proxying::hop_by_hop_headers_stay_behind(Envoy);
}

#[test]
fn x_forwarded_for() {
    proxying::x_forwarded_for(Envoy);
}

#[test]
fn client_cannot_choose_the_upstream() {
    proxying::client_cannot_choose_the_upstream(Envoy);
}

#[test]
fn upstream_connections_are_used_again() {
    upstream_pool::upstream_connections_are_used_again(Envoy);
}

#[test]
fn a_connection_the_backend_closed_is_not_used() {
    upstream_pool::a_connection_the_backend_closed_is_not_used(Envoy);
}
