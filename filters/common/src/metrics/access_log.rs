//! The access-log line: one JSON object per request, logged at info level when the stream
//! ends, so a log pipeline can parse it without a grok pattern and join it to the trace
//! (`trace_id`) and to the upstream's own log (`request_id`).

use serde::Serialize;

/// What one finished request logs. `status` is 0 when there was no response.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AccessLog<'a> {
    /// `:method`.
    pub method: &'a str,
    /// `:authority` as received (not capped: a log line is not a series).
    pub authority: &'a str,
    /// `:path` as received, query included.
    pub path: &'a str,
    /// Response status, 0 without a response.
    pub status: u16,
    /// Request headers → end of the stream, in milliseconds.
    pub latency_ms: u64,
    /// The upstream endpoint (`ip:port`), empty if none was reached.
    pub endpoint: &'a str,
    /// `x-request-id`.
    pub request_id: &'a str,
    /// The W3C trace id (32 hex digits), empty with tracing off.
    pub trace_id: &'a str,
    /// The route name (label value).
    pub route: &'a str,
    /// `success` or `failure`.
    pub classification: &'a str,
    /// `inbound` or `outbound`.
    pub direction: &'a str,
    /// The client's identity: the URI SAN of the certificate it presented over mutual TLS
    /// (a SPIFFE ID in a mesh; Envoy's `%DOWNSTREAM_PEER_URI_SAN%`), empty without one.
    pub peer_identity: &'a str,
}

impl AccessLog<'_> {
    /// The line: a single JSON object, no newline.
    pub fn line(&self) -> String {
        // Serializing plain strings and integers cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests;
