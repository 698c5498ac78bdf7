//! Small reads and writes on the host, with failures logged and turned into `None`: a metrics
//! filter must never fail a request because a header or property could not be read.

use proxy_wasm::hostcalls;
use proxy_wasm::types::MapType;

/// A header of `map`, if present.
pub fn header(map: MapType, name: &str) -> Option<String> {
    hostcalls::get_map_value(map, name)
        .map_err(|status| log::warn!("metrics: reading header {name}: {status:?}"))
        .ok()?
}

/// Replaces (or adds) a request header.
pub fn set_request_header(name: &str, value: &str) {
    if let Err(status) = hostcalls::set_map_value(MapType::HttpRequestHeaders, name, Some(value)) {
        log::warn!("metrics: setting request header {name}: {status:?}");
    }
}

/// A string property such as `upstream.address`; `None` when absent or not UTF-8.
pub fn string_property(path: &[&str]) -> Option<String> {
    let bytes = hostcalls::get_property(path.to_vec()).ok()??;
    String::from_utf8(bytes).ok().filter(|s| !s.is_empty())
}

/// Random bytes from WASI `random_get` (both hosts provide it); zeros if it fails, which the
/// trace rules turn into valid, if not unique, ids.
pub fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    if let Err(e) = getrandom::fill(&mut bytes) {
        log::warn!("metrics: random_get failed: {e}");
    }
    bytes
}
