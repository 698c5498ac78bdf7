//! The `headers` filter through wasmesh: the same scenarios as `envoy_headers.rs`.

use wasmesh_tests::scenarios::headers;
use wasmesh_tests::ProxyKind::Wasmesh;

#[test]
fn add_set_remove() {
    headers::add_set_remove(Wasmesh);
}

#[test]
fn every_request_on_a_connection() {
    headers::every_request_on_a_connection(Wasmesh);
}

#[test]
fn over_http2() {
    headers::over_http2(Wasmesh);
}

#[test]
fn body_passes_through() {
    headers::body_passes_through(Wasmesh);
}

#[test]
fn rejects_invalid_configuration() {
    headers::rejects_invalid_configuration(Wasmesh);
}
