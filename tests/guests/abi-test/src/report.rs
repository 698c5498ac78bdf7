//! How results reach the client: JSON local replies and plain header edits, plus the small
//! conversions (hex, lossy text) the reports use. Failures of these hostcalls are logged, never
//! panicked on: a report that cannot be delivered should not also kill the VM.

use proxy_wasm::hostcalls;
use proxy_wasm::types::MapType;
use serde_json::Value;

use crate::case::Env;
use crate::status;

/// Sends `value` as a JSON local reply with `status`, headers `content-type: application/json`,
/// `x-abi-case: <case>` and `extra`. The body is the compact JSON followed by a newline.
pub fn reply_json(env: &Env<'_>, status: u32, extra: &[(&str, String)], value: &Value) {
    let mut body = serde_json::to_vec(value).unwrap_or_default();
    body.push(b'\n');
    let mut headers = vec![
        ("content-type", "application/json"),
        ("x-abi-case", env.case),
    ];
    headers.extend(extra.iter().map(|(name, value)| (*name, value.as_str())));
    if let Err(s) = hostcalls::send_http_response(status, headers, Some(&body)) {
        log::error!("abi-test: send_http_response: {}", status::of(s));
    }
}

/// A request header's value as text (lossy UTF-8, so a client cannot make the guest panic).
pub fn request_header(name: &str) -> Option<String> {
    header(MapType::HttpRequestHeaders, name)
}

/// A header of `map` as text (lossy UTF-8); `None` when absent or unreadable.
pub fn header(map: MapType, name: &str) -> Option<String> {
    match hostcalls::get_map_value_bytes(map, name) {
        Ok(value) => value.map(|v| text(&v)),
        Err(s) => {
            log::warn!("abi-test: get {name} from {map:?}: {}", status::of(s));
            None
        }
    }
}

/// Replaces (or creates) a header of `map`; the status name, `"Ok"` on success.
pub fn set_header(map: MapType, name: &str, value: &str) -> String {
    let result = hostcalls::set_map_value(map, name, Some(value));
    if let Err(s) = result {
        log::warn!("abi-test: set {name} in {map:?}: {}", status::of(s));
    }
    status::of_result(&result)
}

/// All pairs of `map` as (name, lossy text); empty when unreadable.
pub fn pairs(map: MapType) -> Vec<(String, String)> {
    match hostcalls::get_map_bytes(map) {
        Ok(pairs) => pairs.into_iter().map(|(n, v)| (n, text(&v))).collect(),
        Err(s) => {
            log::warn!("abi-test: get pairs of {map:?}: {}", status::of(s));
            Vec::new()
        }
    }
}

/// Lossy UTF-8 text of `bytes`.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The value shown for a header that was absent.
pub const ABSENT: &str = "<absent>";
