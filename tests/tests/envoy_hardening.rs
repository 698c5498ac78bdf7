//! The reference for `wasmesh_hardening.rs`: what Envoy 1.40 answers the same malformed
//! requests with.

use wasmesh_tests::scenarios::strict;
use wasmesh_tests::ProxyKind;

#[test]
fn malformed_http1_requests_are_refused() {
    strict::malformed_requests_are_refused(ProxyKind::Envoy);
}

#[test]
fn length_with_chunked_is_refused() {
    strict::length_with_chunked(ProxyKind::Envoy);
}

#[test]
fn buffering_filter_hits_the_buffer_limit() {
    wasmesh_tests::scenarios::limits::buffering_filter_hits_the_buffer_limit(ProxyKind::Envoy);
}

#[test]
fn oversized_heads_get_431() {
    wasmesh_tests::scenarios::strict::oversized_heads_get_431(ProxyKind::Envoy);
}
