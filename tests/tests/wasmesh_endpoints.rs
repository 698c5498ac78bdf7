//! wasmesh's admin `GET /endpoints` and `wasmesh stat --discovery` (scenarios in
//! `wasmesh_tests::scenarios::endpoints`); Envoy has no such view, which the second test checks
//! that `wasmesh stat` says.

use wasmesh_tests::scenarios::endpoints;

#[test]
fn endpoints_show_sets_versions_and_health() {
    endpoints::endpoints_show_sets_versions_and_health();
}

#[test]
fn stat_discovery_against_envoy_says_there_is_no_such_view() {
    endpoints::stat_discovery_against_envoy_says_there_is_no_such_view();
}
