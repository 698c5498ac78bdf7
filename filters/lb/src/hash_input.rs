//! The hash of a request for `ring_hash`/`maglev`: fetch the configured input from the host,
//! hash it with the stable hash every worker and host agree on.

use proxy_wasm::hostcalls;
use proxy_wasm::types::MapType;
use wasmesh_common::hash::hash64;
use wasmesh_common::lb::hash_key::{cookie_value, source_ip};
use wasmesh_common::lb::HashKey;

/// The request's key hash, or `None` when the input is absent (the balancer then picks at
/// random, as Envoy does for a request without a hash key).
pub fn request_hash(key: &HashKey) -> Option<u64> {
    match key {
        HashKey::Header(name) => header(name).map(|v| hash64(v.as_bytes())),
        HashKey::Cookie(name) => {
            let cookies = header("cookie")?;
            cookie_value(&cookies, name).map(|v| hash64(v.as_bytes()))
        }
        HashKey::SourceIp => {
            let bytes = hostcalls::get_property(vec!["source", "address"])
                .map_err(|status| log::warn!("lb: reading source.address: {status:?}"))
                .ok()??;
            let address = String::from_utf8_lossy(&bytes);
            Some(hash64(source_ip(&address).as_bytes()))
        }
    }
}

fn header(name: &str) -> Option<String> {
    hostcalls::get_map_value(MapType::HttpRequestHeaders, name)
        .map_err(|status| log::warn!("lb: reading header {name}: {status:?}"))
        .ok()?
}
