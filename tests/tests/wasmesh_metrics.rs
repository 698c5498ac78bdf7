//! The `metrics` filter through wasmesh: the same scenarios as
//! `envoy_metrics.rs`.

use wasmesh_tests::scenarios::metrics;
use wasmesh_tests::ProxyKind::Wasmesh;

#[test]
fn traffic_mix_is_counted_exactly() {
    metrics::traffic_mix_is_counted_exactly(Wasmesh);
}
