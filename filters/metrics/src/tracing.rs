//! Trace headers on the request path: `traceparent` continued (same trace, new span) or
//! started, and `x-request-id` generated when absent (both hosts add one themselves as edge
//! proxies; this covers hosts and setups that do not).

use proxy_wasm::types::MapType;
use wasmesh_common::metrics::trace;

use crate::host;

/// What the access log needs to join the request to its trace.
#[derive(Debug, Default)]
pub struct TraceIds {
    /// `x-request-id` as forwarded (empty when not logged and tracing is off).
    pub request_id: String,
    /// The trace id (32 hex digits), empty when tracing is off or nothing is logged.
    pub trace_id: String,
}

/// Rewrites the trace headers of the current request when `enabled`. `logged`: whether the
/// access log will show the ids; without it they are left empty and, with tracing off, the
/// request id is not even read.
pub fn on_request(enabled: bool, logged: bool) -> TraceIds {
    if !enabled {
        let request_id = logged.then(|| host::header(MapType::HttpRequestHeaders, "x-request-id"));
        return TraceIds {
            request_id: request_id.flatten().unwrap_or_default(),
            trace_id: String::new(),
        };
    }
    let existing_id = host::header(MapType::HttpRequestHeaders, "x-request-id");
    let random: [u8; trace::RANDOM_BYTES] = host::random();
    let mut ids = [0u8; 24];
    ids.copy_from_slice(&random[..24]);
    let incoming = host::header(MapType::HttpRequestHeaders, "traceparent");
    let next = trace::next_hop(incoming.as_deref(), &ids);
    host::set_request_header("traceparent", &next.header());
    let request_id = match existing_id.filter(|id| !id.is_empty()) {
        Some(id) => id,
        None => {
            let mut uuid = [0u8; 16];
            uuid.copy_from_slice(&random[24..]);
            let id = trace::uuid_v4(&uuid);
            host::set_request_header("x-request-id", &id);
            id
        }
    };
    TraceIds {
        request_id,
        trace_id: if logged {
            next.trace_id_hex()
        } else {
            String::new()
        },
    }
}
