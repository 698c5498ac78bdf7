//! Modules by URL and from a real OCI registry in wasmesh
//! (`wasmesh_tests::scenarios::remote_modules`).

use wasmesh_tests::scenarios::remote_modules;

#[test]
fn module_by_url_is_fetched_checked_and_cached() {
    remote_modules::module_by_url_is_fetched_checked_and_cached();
}

#[test]
fn bad_fetches_are_refused_and_the_running_module_serves_on() {
    remote_modules::bad_fetches_are_refused_and_the_running_module_serves_on();
}

#[test]
fn module_from_an_oci_registry() {
    remote_modules::module_from_an_oci_registry();
}

#[test]
fn modules_over_https_from_a_private_ca() {
    remote_modules::registry_access::modules_over_https_from_a_private_ca();
}

#[test]
fn registry_asking_for_a_password() {
    remote_modules::registry_access::registry_asking_for_a_password();
}

#[test]
fn registry_with_a_token_service() {
    remote_modules::registry_access::registry_with_a_token_service();
}
