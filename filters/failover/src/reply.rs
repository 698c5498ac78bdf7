//! Turning a retry's `http_call` response into the client's response (a local reply).

use proxy_wasm::hostcalls;
use wasmesh_common::failover::captured::CapturedHeaders;

/// Headers the host sets itself on a local reply, or that describe the old connection.
const DROPPED: &[&str] = &[
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
];

/// Sends `status` with the call's `headers` (pseudo and framing headers dropped), `extra`
/// headers and `body` to the client.
pub fn send(status: u32, headers: &[(String, String)], extra: &[(&str, &str)], body: &[u8]) {
    let mut out: Vec<(&str, &str)> = headers
        .iter()
        .filter(|(k, _)| !k.starts_with(':') && !DROPPED.contains(&k.as_str()))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    out.extend_from_slice(extra);
    let body = (!body.is_empty()).then_some(body);
    if let Err(status) = hostcalls::send_http_response(status, out, body) {
        log::warn!("failover: sending the retried response: {status:?}");
    }
}

/// The request headers a retry replays: everything but framing and hop-by-hop headers and
/// the pick header (set per try).
pub fn replayable(headers: CapturedHeaders, pick_header: &str) -> CapturedHeaders {
    headers.without(|name| {
        DROPPED.iter().any(|d| d.as_bytes() == name) || name == pick_header.as_bytes()
    })
}
