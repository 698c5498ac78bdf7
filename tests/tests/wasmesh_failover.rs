//! The `failover` filter (with `lb`) in wasmesh: the same scenarios as `envoy_failover.rs`.

use wasmesh_tests::scenarios::failover;
use wasmesh_tests::ProxyKind::Wasmesh;

#[test]
fn kill_one_of_three_under_load() {
    failover::kill_one_of_three_under_load(Wasmesh);
}

#[test]
fn upstream_503_is_retried_on_another_endpoint() {
    failover::upstream_503_is_retried_on_another_endpoint(Wasmesh);
}

#[test]
fn post_is_not_retried_by_default() {
    failover::post_is_not_retried_by_default(Wasmesh);
}

#[test]
fn configured_post_is_retried_only_without_a_body() {
    failover::configured_post_is_retried_only_without_a_body(Wasmesh);
}

#[test]
fn refused_connection_is_retried() {
    failover::refused_connection_is_retried(Wasmesh);
}

/// wasmesh names the refused connection in `response.code_details`
/// (`upstream_reset_before_response_started{connection_failure}`), as Envoy does, so the retry
/// is counted as `connect-failure`.
#[test]
fn refused_connection_is_named_connect_failure() {
    failover::refused_connection_is_named_connect_failure(Wasmesh);
}

#[test]
fn bad_config_names_the_field() {
    failover::bad_config_names_the_field(Wasmesh);
}
