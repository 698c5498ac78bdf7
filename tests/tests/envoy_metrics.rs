//! The `metrics` filter in real Envoy (labels through `stats_tags`): the reference for
//! `wasmesh_metrics.rs`.

use wasmesh_tests::scenarios::metrics;
use wasmesh_tests::ProxyKind::Envoy;

#[test]
fn traffic_mix_is_counted_exactly() {
    metrics::traffic_mix_is_counted_exactly(Envoy);
}
