//! Applying one direction's [`Mutations`] to a header map through the ABI.

use proxy_wasm::hostcalls;
use proxy_wasm::types::MapType;
use wasmesh_common::headers::Mutations;

/// Applies `mutations` to `map`: remove, then set (replace), then add, so a header both removed
/// and added ends up with exactly the configured value. A failed hostcall is logged and the
/// rest still applied: one header the host refuses should not cost the others.
pub fn apply(map: MapType, mutations: &Mutations) {
    for name in &mutations.remove {
        if let Err(status) = hostcalls::remove_map_value(map, name) {
            log::warn!("headers: removing {name} from {map:?}: {status:?}");
        }
    }
    for (name, value) in &mutations.set {
        if let Err(status) = hostcalls::set_map_value(map, name, Some(value)) {
            log::warn!("headers: setting {name} in {map:?}: {status:?}");
        }
    }
    for (name, value) in &mutations.add {
        if let Err(status) = hostcalls::add_map_value(map, name, value) {
            log::warn!("headers: adding {name} to {map:?}: {status:?}");
        }
    }
}
