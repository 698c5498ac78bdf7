//! TCP listeners with network filters in both hosts (`wasmesh_tests::scenarios::tcp_proxy`).

use wasmesh_tests::scenarios::tcp_proxy::{
    tcp_bytes_pass_through_network_filters, tcp_connections_are_counted,
    tcp_filter_calls_out_before_passing_bytes, tcp_filter_chooses_the_cluster,
    tcp_filter_closes_the_connection, tcp_held_bytes_are_bounded, tcp_listener_terminates_tls,
    tcp_vm_failure_follows_fail_open,
};

wasmesh_tests::in_both_hosts!(
    tcp_bytes_pass_through_network_filters,
    tcp_filter_closes_the_connection,
    tcp_filter_calls_out_before_passing_bytes,
    tcp_held_bytes_are_bounded,
    tcp_vm_failure_follows_fail_open,
    tcp_filter_chooses_the_cluster,
    tcp_listener_terminates_tls,
);

/// wasmesh's `wasmesh_tcp_*` counters (Envoy has its own `tcp.<prefix>.*` stats).
#[test]
fn wasmesh_counts_tcp_connections() {
    tcp_connections_are_counted();
}
