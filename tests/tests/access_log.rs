//! A listener's access log in both hosts (`wasmesh_tests::scenarios::access_log`).

use wasmesh_tests::scenarios::access_log::{
    access_log_entries, bad_access_logs_are_refused, tcp_access_log_entries,
};

wasmesh_tests::in_both_hosts!(access_log_entries);
wasmesh_tests::in_both_hosts!(tcp_access_log_entries);

/// wasmesh's own checks of an access log's configuration.
#[test]
fn wasmesh_refuses_bad_access_logs() {
    bad_access_logs_are_refused();
}
