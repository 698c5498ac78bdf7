//! The `discovery` filter feeding `lb` through shared data, in wasmesh: the same scenarios as
//! `envoy_discovery.rs`.

use wasmesh_tests::scenarios::discovery;
use wasmesh_tests::ProxyKind::Wasmesh;

#[test]
fn etcd_follows_register_reweight_remove() {
    discovery::etcd_follows_register_reweight_remove(Wasmesh);
}

#[test]
fn consul_follows_add_reweight_remove() {
    discovery::consul_follows_add_reweight_remove(Wasmesh);
}

#[test]
fn endpoint_slices_follow_add_remove() {
    discovery::endpoint_slices_follow_add_remove(Wasmesh);
}

#[test]
fn json_document_follows_add_reweight_remove() {
    discovery::json_document_follows_add_reweight_remove(Wasmesh);
}

#[test]
fn static_list_is_published() {
    discovery::static_list_is_published(Wasmesh);
}

#[test]
fn outage_and_garbage_keep_the_last_good_set() {
    discovery::outage_and_garbage_keep_the_last_good_set(Wasmesh);
}

#[test]
fn etcd_outage_keeps_the_last_good_set() {
    discovery::etcd_outage_keeps_the_last_good_set(Wasmesh);
}

#[test]
fn consul_blocking_query_sees_a_change_at_once() {
    discovery::consul_blocking_query_sees_a_change_at_once(Wasmesh);
}

#[test]
fn etcd_unchanged_registry_costs_a_probe() {
    discovery::etcd_unchanged_registry_costs_a_probe(Wasmesh);
}

#[test]
fn consul_blocking_query_that_times_out_is_asked_again() {
    discovery::consul_blocking_query_that_times_out_is_asked_again(Wasmesh);
}
