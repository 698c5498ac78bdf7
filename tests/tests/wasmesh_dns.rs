//! Host-side DNS discovery in wasmesh, against a real dnsmasq whose records change: the same
//! scenarios as `envoy_dns.rs` (where Envoy's STRICT_DNS cluster resolves), plus SRV records.

use wasmesh_tests::scenarios::dns;
use wasmesh_tests::ProxyKind::Wasmesh;

#[test]
fn follows_record_changes() {
    dns::follows_record_changes(Wasmesh);
}

#[test]
fn resolver_outage_keeps_the_last_set() {
    dns::resolver_outage_keeps_the_last_set(Wasmesh);
}

#[test]
fn nxdomain_keeps_the_last_set() {
    dns::nxdomain(Wasmesh);
}

#[test]
fn srv_records_give_ports_weights_and_priorities() {
    dns::srv_records_give_ports_weights_and_priorities();
}

#[test]
fn reload_reconfigures_dns() {
    dns::reload_reconfigures_dns();
}

#[test]
fn aaaa_records_give_ipv6_endpoints() {
    dns::aaaa_records_give_ipv6_endpoints();
}
