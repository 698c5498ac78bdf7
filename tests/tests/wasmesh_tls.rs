//! wasmesh's TLS beyond what both hosts share (`wasmesh_tests::scenarios::tls::wasmesh_only`):
//! SNI, the handshake timeout, bad clients, bad settings, reloads.

use wasmesh_tests::scenarios::tls::wasmesh_only;

#[test]
fn sni_picks_the_certificate() {
    wasmesh_only::sni_picks_the_certificate();
}

#[test]
fn bad_clients_are_closed_and_counted() {
    wasmesh_only::bad_clients_are_closed_and_counted();
}

#[test]
fn bad_tls_config_names_the_field() {
    wasmesh_only::bad_tls_config_names_the_field();
}

#[test]
fn reload_keeps_serving_when_the_new_pair_is_broken() {
    wasmesh_only::reload_keeps_serving_when_the_new_pair_is_broken();
}

#[test]
fn readme_example_serves_with_minted_certificates() {
    wasmesh_only::readme_example_serves_with_minted_certificates();
}

#[test]
fn bad_cluster_tls_names_the_field() {
    wasmesh_only::bad_cluster_tls_names_the_field();
}

#[test]
fn rotated_certificate_files_reach_new_handshakes() {
    wasmesh_only::rotated_certificate_files_reach_new_handshakes();
}
