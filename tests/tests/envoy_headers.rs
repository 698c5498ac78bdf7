//! The `headers` filter in real Envoy: the reference for `wasmesh_headers.rs`.

use wasmesh_tests::scenarios::headers;
use wasmesh_tests::ProxyKind::Envoy;

#[test]
fn add_set_remove() {
    headers::add_set_remove(Envoy);
}

#[test]
fn every_request_on_a_connection() {
    headers::every_request_on_a_connection(Envoy);
}

#[test]
fn over_http2() {
    headers::over_http2(Envoy);
}

#[test]
fn body_passes_through() {
    headers::body_passes_through(Envoy);
}

#[test]
fn rejects_invalid_configuration() {
    headers::rejects_invalid_configuration(Envoy);
}
