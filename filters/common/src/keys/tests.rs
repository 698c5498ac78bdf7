use super::*;

#[test]
fn ratelimit_key_includes_root_id_and_value() {
    assert_eq!(
        ratelimit("edge", "global"),
        "wasmesh.v1.ratelimit.edge.global"
    );
    assert_eq!(
        ratelimit("", "tenant-a"),
        "wasmesh.v1.ratelimit.default.tenant-a"
    );
}

#[test]
fn endpoints_key_names_the_service() {
    assert_eq!(endpoints("checkout"), "wasmesh.v1.endpoints.checkout");
}
