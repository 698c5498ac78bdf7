//! TLS and mutual TLS on a listener in both hosts: the same certificates, the same curl
//! requests, the same `connection.*` properties the abi-test guest reads
//! (`wasmesh_tests::scenarios::tls`).

use wasmesh_tests::in_both_hosts;
use wasmesh_tests::scenarios::tls::calls::{grpc_call_over_tls, http_call_over_tls};
use wasmesh_tests::scenarios::tls::{
    access_log_names_the_client, auto_sni, mtls_properties, optional_client_certificate,
    original_dst_over_tls, plain_listener_properties, refused_client_certificates,
    untrusting_client, upstream_identity_is_checked, upstream_mtls,
};

in_both_hosts!(
    mtls_properties,
    upstream_mtls,
    upstream_identity_is_checked,
    access_log_names_the_client,
    optional_client_certificate,
    plain_listener_properties,
    refused_client_certificates,
    untrusting_client,
    auto_sni,
    original_dst_over_tls,
    http_call_over_tls,
    grpc_call_over_tls
);

/// wasmesh as the mutual-TLS client of Envoy (the other direction is `upstream_mtls::envoy`).
#[test]
fn wasmesh_to_envoy_mtls() {
    wasmesh_tests::scenarios::tls::wasmesh_to_envoy_mtls();
}
