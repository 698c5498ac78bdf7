use super::*;

#[test]
fn ratelimit_slot_key_includes_root_id_and_slot() {
    assert_eq!(
        ratelimit_slot("edge", 0),
        "wasmesh.v1.ratelimit.edge.slot.0"
    );
    assert_eq!(
        ratelimit_slot("", 9999),
        "wasmesh.v1.ratelimit.default.slot.9999"
    );
}

#[test]
fn endpoints_key_names_the_service() {
    assert_eq!(endpoints("checkout"), "wasmesh.v1.endpoints.checkout");
}
