//! The `discovery` filter feeding `lb` through shared data, in real Envoy: the same scenarios as
//! `wasmesh_discovery.rs`.

use wasmesh_tests::scenarios::discovery;
use wasmesh_tests::ProxyKind::Envoy;

#[test]
fn etcd_follows_register_reweight_remove() {
    discovery::etcd_follows_register_reweight_remove(Envoy);
}

#[test]
fn consul_follows_add_reweight_remove() {
    discovery::consul_follows_add_reweight_remove(Envoy);
}

#[test]
fn endpoint_slices_follow_add_remove() {
    discovery::endpoint_slices_follow_add_remove(Envoy);
}

#[test]
fn json_document_follows_add_reweight_remove() {
    discovery::json_document_follows_add_reweight_remove(Envoy);
}

#[test]
fn static_list_is_published() {
    discovery::static_list_is_published(Envoy);
}

#[test]
fn outage_and_garbage_keep_the_last_good_set() {
    discovery::outage_and_garbage_keep_the_last_good_set(Envoy);
}

#[test]
fn etcd_outage_keeps_the_last_good_set() {
    discovery::etcd_outage_keeps_the_last_good_set(Envoy);
}

#[test]
fn consul_blocking_query_sees_a_change_at_once() {
    discovery::consul_blocking_query_sees_a_change_at_once(Envoy);
}

#[test]
fn etcd_unchanged_registry_costs_a_probe() {
    discovery::etcd_unchanged_registry_costs_a_probe(Envoy);
}

#[test]
fn consul_blocking_query_that_times_out_is_asked_again() {
    discovery::consul_blocking_query_that_times_out_is_asked_again(Envoy);
}
