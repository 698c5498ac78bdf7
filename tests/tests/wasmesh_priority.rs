//! Priority levels and zones in `lb` (with `failover`'s ejections) in Wasmesh: the same
//! scenarios as `envoy_priority.rs`.

use wasmesh_tests::scenarios::priority;
use wasmesh_tests::ProxyKind::Wasmesh;

#[test]
fn primary_zone_down_fails_over_and_back() {
    priority::primary_zone_down_fails_over_and_back(Wasmesh);
}

#[test]
fn retries_stay_in_the_local_zone() {
    priority::retries_stay_in_the_local_zone(Wasmesh);
}

#[test]
fn half_of_p0_ejected_spills_thirty_percent() {
    priority::half_of_p0_ejected_spills_thirty_percent(Wasmesh);
}

#[test]
fn panic_spreads_over_every_endpoint() {
    priority::panic_spreads_over_every_endpoint(Wasmesh);
}

#[test]
fn panic_disabled_keeps_traffic_on_the_survivors() {
    priority::panic_disabled_keeps_traffic_on_the_survivors(Wasmesh);
}

#[test]
fn bad_config_names_the_field() {
    priority::bad_config_names_the_field(Wasmesh);
}
