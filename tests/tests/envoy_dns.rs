//! DNS-based discovery in Envoy: the committed `envoy-configs/dns-cluster.yaml` (a STRICT_DNS
//! cluster) against a real dnsmasq whose records change: the same scenarios as
//! `wasmesh_dns.rs`, where wasmesh resolves in the host and `lb` balances.

use wasmesh_tests::scenarios::dns;
use wasmesh_tests::ProxyKind::Envoy;

#[test]
fn follows_record_changes() {
    dns::follows_record_changes(Envoy);
}

#[test]
fn resolver_outage_keeps_the_last_set() {
    dns::resolver_outage_keeps_the_last_set(Envoy);
}

#[test]
fn nxdomain_empties_the_cluster() {
    dns::nxdomain(Envoy);
}
