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
fn configured_post_is_retried_with_its_body() {
    failover::configured_post_is_retried_with_its_body(Wasmesh);
}

#[test]
fn oversized_body_is_not_retried() {
    failover::oversized_body_is_not_retried(Wasmesh);
}

#[test]
fn half_503_stays_within_the_budget() {
    failover::half_503_stays_within_the_budget(Wasmesh);
}

#[test]
fn request_timeout_while_a_retry_hangs() {
    failover::request_timeout_while_a_retry_hangs(Wasmesh);
}

/// Needs a host change: wasmesh's `forward` (host/src/proxy/server.rs) waits for the
/// upstream's response headers watching only the request-body pump's abort, not a local reply
/// a filter sends from another callback (here the root's tick, through
/// `proxy_set_effective_context`), so the filter's 504 reaches the client only once the hanging
/// upstream answers (10 s). Envoy sends it at once (the same test passes there).
#[test]
#[ignore = "host: a local reply sent from on_tick is not seen while the stream waits for upstream headers"]
fn request_timeout_while_the_first_try_hangs() {
    failover::request_timeout_while_the_first_try_hangs(Wasmesh);
}

#[test]
fn per_try_timeout_is_named() {
    failover::per_try_timeout_is_named(Wasmesh);
}

#[test]
fn retries_wait_out_their_backoff() {
    failover::retries_wait_out_their_backoff(Wasmesh);
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
