//! The few lines of proxy-wasm glue every wasmesh filter needs, written once.
//!
//! `wasmesh-common` holds the filters' logic and stays free of the ABI so it is unit-tested
//! natively; this crate is the other side: small helpers that talk to the host. Each concept
//! has its module ([`abi`], [`clock`], [`metric`]); reading the plugin configuration and a call's
//! response are the functions below.

#![deny(missing_docs)]

pub mod abi;
pub mod clock;
pub mod metric;

use std::fmt::Display;

use proxy_wasm::hostcalls;
use proxy_wasm::types::BufferType;

/// Reads the plugin configuration and parses it with `parse`. On failure it logs why, prefixed
/// with the filter's name (`lb: invalid configuration: endpoints[1].address: …`), and returns
/// `None`, so `on_configure` answers false and the host refuses the configuration. Also adopts
/// the host's log level, so debug lines are formatted only when the host would print them.
pub fn read_configuration<T, E: Display>(
    filter: &str,
    parse: impl FnOnce(&[u8]) -> Result<T, E>,
) -> Option<T> {
    if let Ok(level) = hostcalls::get_log_level() {
        proxy_wasm::set_log_level(level);
    }
    let bytes = match hostcalls::get_buffer(BufferType::PluginConfiguration, 0, usize::MAX) {
        Ok(bytes) => bytes.unwrap_or_default(),
        Err(status) => {
            log::error!("{filter}: cannot read the plugin configuration: {status:?}");
            return None;
        }
    };
    parse(&bytes)
        .map_err(|e| log::error!("{filter}: invalid configuration: {e}"))
        .ok()
}

/// In `on_http_call_response`: the call's response headers and its `:status`. A call that got
/// no response at all has no headers, hence no status: Envoy's `onFailure` (a reset); a timeout
/// is a 504 and a refused connection a 503 in both hosts.
pub fn call_response_head(headers: usize) -> (Vec<(String, String)>, Option<u16>) {
    let pairs = if headers > 0 {
        hostcalls::get_map(proxy_wasm::types::MapType::HttpCallResponseHeaders).unwrap_or_default()
    } else {
        Vec::new()
    };
    let status = pairs
        .iter()
        .find(|(k, _)| k == ":status")
        .and_then(|(_, v)| v.parse::<u16>().ok());
    (pairs, status)
}

/// In `on_http_call_response`: the call's response body (empty if there is none).
pub fn call_response_body(body_size: usize) -> Vec<u8> {
    hostcalls::get_buffer(BufferType::HttpCallResponseBody, 0, body_size)
        .ok()
        .flatten()
        .unwrap_or_default()
}
