//! Priority levels and zones in `lb` (with `failover`'s ejections) in Envoy: the same
//! scenarios as `wasmesh_priority.rs`.

use wasmesh_tests::scenarios::priority;
use wasmesh_tests::ProxyKind::Envoy;

#[test]
fn primary_zone_down_fails_over_and_back() {
    priority::primary_zone_down_fails_over_and_back(Envoy);
}

#[test]
fn retries_stay_in_the_local_zone() {
    priority::retries_stay_in_the_local_zone(Envoy);
}

#[test]
fn half_of_p0_ejected_spills_thirty_percent() {
    priority::half_of_p0_ejected_spills_thirty_percent(Envoy);
}

#[test]
fn panic_spreads_over_every_endpoint() {
    priority::panic_spreads_over_every_endpoint(Envoy);
}

#[test]
fn panic_disabled_keeps_traffic_on_the_survivors() {
    priority::panic_disabled_keeps_traffic_on_the_survivors(Envoy);
}

#[test]
fn bad_config_names_the_field() {
    priority::bad_config_names_the_field(Envoy);
}
