//! The `failover` filter (with `lb`) in real Envoy: the reference for `wasmesh_failover.rs`.

use wasmesh_tests::scenarios::failover;
use wasmesh_tests::ProxyKind::Envoy;

#[test]
fn kill_one_of_three_under_load() {
    failover::kill_one_of_three_under_load(Envoy);
}

#[test]
fn upstream_503_is_retried_on_another_endpoint() {
    failover::upstream_503_is_retried_on_another_endpoint(Envoy);
}

#[test]
fn post_is_not_retried_by_default() {
    failover::post_is_not_retried_by_default(Envoy);
}

#[test]
fn configured_post_is_retried_with_its_body() {
    failover::configured_post_is_retried_with_its_body(Envoy);
}

#[test]
fn oversized_body_is_not_retried() {
    failover::oversized_body_is_not_retried(Envoy);
}

#[test]
fn half_503_stays_within_the_budget() {
    failover::half_503_stays_within_the_budget(Envoy);
}

#[test]
fn a_tight_budget_caps_the_retries() {
    failover::a_tight_budget_caps_the_retries(Envoy);
}

#[test]
fn request_timeout_while_a_retry_hangs() {
    failover::request_timeout_while_a_retry_hangs(Envoy);
}

#[test]
fn request_timeout_while_the_first_try_hangs() {
    failover::request_timeout_while_the_first_try_hangs(Envoy);
}

#[test]
fn per_try_timeout_is_named() {
    failover::per_try_timeout_is_named(Envoy);
}

#[test]
fn retries_wait_out_their_backoff() {
    failover::retries_wait_out_their_backoff(Envoy);
}

#[test]
fn refused_connection_is_retried() {
    failover::refused_connection_is_retried(Envoy);
}

#[test]
fn refused_connection_is_named_connect_failure() {
    failover::refused_connection_is_named_connect_failure(Envoy);
}

#[test]
fn bad_config_names_the_field() {
    failover::bad_config_names_the_field(Envoy);
}

#[test]
fn client_faults_eject_nothing() {
    failover::client_faults_eject_nothing(Envoy);
}
