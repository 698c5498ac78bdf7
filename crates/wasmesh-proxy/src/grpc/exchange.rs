//! One gRPC exchange with a cluster, read as Envoy's gRPC client reads it, so a filter gets
//! the same callbacks in the same order from both hosts:
//! - response headers with HTTP 200 are the initial metadata; a response that ends with its
//!   headers ("trailers-only") gives empty initial metadata and its headers as the trailing
//!   metadata; a non-200 response gives empty initial metadata, and its `grpc-status` if it
//!   ended there, else the status mapped from the HTTP status;
//! - each message, as it completes; trailers give the trailing metadata and then the close with
//!   their `grpc-status` (`UNKNOWN` without one);
//! - a failure before any response, a timeout included, is what Envoy's router answers a gRPC
//!   request with itself: a trailers-only reply with `UNAVAILABLE` and the router's words; a
//!   timeout or a reset after the response started closes with `INTERNAL` (the router can only
//!   reset by then); data that ends without trailers with `UNKNOWN`;
//! - the close's message (`proxy_get_status`) carries Envoy's response-code details after the
//!   server's message, in braces (`not found{via_upstream}`), or alone when there was none.

use base64::Engine;
use std::time::Duration;

use http_body_util::BodyExt;
use tokio::time::Instant;

use super::wire::{self, code, Decoder};
use crate::admission::Admission;
use crate::body::ProxyBody;
use crate::headers_conv::{response_to_map, trailers_to_map, upstream_request};
use crate::upstream::{SendError, Upstreams};
use crate::upstream_failure::send_failure;
use wasmesh_host::headers::HeaderMap;
use wasmesh_host::store::grpc::{GrpcReceived, GrpcTarget};

/// Receives what the exchange produced; answers false when nobody listens any more.
pub type Emit<'a> = &'a mut dyn FnMut(GrpcReceived) -> bool;

/// Runs one exchange to its close. `timeout` bounds all of it (a unary call's deadline).
pub async fn run(
    upstreams: &Upstreams,
    target: &GrpcTarget,
    body: ProxyBody,
    timeout: Option<Duration>,
    max_message: usize,
    emit: Emit<'_>,
) {
    let deadline = timeout.map(|t| Instant::now() + t);
    let mut reader = Reader {
        emit,
        decoder: Decoder::new(max_message),
        details: String::new(),
    };
    let sent = match deadline {
        Some(at) => tokio::time::timeout_at(at, send(upstreams, target, body, timeout))
            .await
            .unwrap_or(Err(Failure::Timeout)),
        None => send(upstreams, target, body, timeout).await,
    };
    let (_admission, response) = match sent {
        Ok(sent) => sent,
        Err(Failure::NoCluster) => {
            // Envoy's client closes at once, with no metadata callbacks.
            (reader.emit)(GrpcReceived::Close {
                code: code::UNAVAILABLE,
                message: "Cluster not available".into(),
            });
            return;
        }
        Err(failure) => {
            log::debug!("gRPC call to {} failed: {failure}", target.cluster);
            let (status, words, details) = failure.router_reply();
            reader.details = details;
            reader.headers(wire::local_reply(status, &words), true);
            return;
        }
    };
    reader.details = "via_upstream".into();
    let (parts, mut body) = response.into_parts();
    let ended = http_body::Body::is_end_stream(&body);
    if !reader.headers(response_to_map(&parts), ended) {
        return;
    }
    loop {
        let frame = match deadline {
            Some(at) => match tokio::time::timeout_at(at, body.frame()).await {
                Ok(frame) => frame,
                Err(_) => {
                    reader.details = "response_timeout".into();
                    return reader.error(code::INTERNAL);
                }
            },
            None => body.frame().await,
        };
        match frame {
            None => return reader.error(code::UNKNOWN),
            Some(Err(e)) => {
                log::debug!("gRPC response from {} reset: {e}", target.cluster);
                reader.details = "upstream_reset_after_response_started{remote_reset}".into();
                return reader.error(code::INTERNAL);
            }
            Some(Ok(frame)) => match frame.into_data() {
                Ok(data) => {
                    if !reader.data(&data) {
                        return;
                    }
                }
                Err(frame) => {
                    if let Ok(trailers) = frame.into_trailers() {
                        return reader.trailers(trailers_to_map(&trailers));
                    }
                }
            },
        }
    }
}

/// Why an exchange got no response.
#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error("no such cluster")]
    NoCluster,
    #[error("the cluster does not speak h2 (set \"http2\": true on it)")]
    NotH2,
    #[error("no endpoint: {0}")]
    Pick(#[from] crate::upstream::PickError),
    #[error("building the request: {0}")]
    Request(#[from] http::Error),
    #[error(transparent)]
    Send(#[from] SendError),
    #[error("timed out before a response")]
    Timeout,
}

impl Failure {
    /// The HTTP status, words (`grpc-message`) and details Envoy's router would answer with.
    fn router_reply(&self) -> (u16, String, String) {
        match self {
            Failure::Send(e) => {
                let (words, details) = send_failure(e);
                // Envoy's gRPC reply leaves the transport's reason out of its words (it is in
                // the details).
                let words = words
                    .split(", transport failure reason")
                    .next()
                    .unwrap_or_default();
                (503, words.to_string(), details)
            }
            Failure::NotH2 => (503, format!("wasmesh: {self}"), "wasmesh_not_h2".into()),
            Failure::Timeout => (
                504,
                "upstream request timeout".into(),
                "response_timeout".into(),
            ),
            _ => (
                503,
                "no healthy upstream".into(),
                "no_healthy_upstream".into(),
            ),
        }
    }
}

/// The request's head: what Envoy's gRPC client sends, then the guest's initial metadata.
fn head(target: &GrpcTarget, timeout: Option<Duration>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.add(b":method", b"POST");
    let path = format!("/{}/{}", target.service, target.method);
    headers.add(b":path", path.as_bytes());
    headers.add(b":authority", target.authority.as_bytes());
    headers.add(b":scheme", b"http");
    headers.add(b"content-type", b"application/grpc");
    headers.add(b"te", b"trailers");
    if let Some(timeout) = timeout {
        let ms = timeout.as_millis().to_string();
        headers.add(b"grpc-timeout", format!("{ms}m").as_bytes());
        headers.add(b"x-envoy-expected-rq-timeout-ms", ms.as_bytes());
    }
    // What Envoy's router marks every request of its own clients with.
    headers.add(b"x-envoy-internal", b"true");
    for (key, value) in target.metadata.iter() {
        // Binary metadata travels base64-encoded (the gRPC wire format), as Envoy sends it.
        if key.ends_with(b"-bin") {
            let encoded = base64::engine::general_purpose::STANDARD.encode(value);
            headers.add(key, encoded.as_bytes());
        } else {
            headers.add(key, value);
        }
    }
    headers
}

async fn send(
    upstreams: &Upstreams,
    target: &GrpcTarget,
    body: ProxyBody,
    timeout: Option<Duration>,
) -> Result<(Admission, http::Response<hyper::body::Incoming>), Failure> {
    let cluster = upstreams.get(&target.cluster).ok_or(Failure::NoCluster)?;
    if !cluster.config.http2 {
        return Err(Failure::NotH2);
    }
    let mut headers = head(target, timeout);
    let endpoint = cluster.pick(&mut headers)?;
    let head = http::HeaderMap::with_capacity(headers.len());
    let request = upstream_request(&headers, cluster.authority(endpoint), body, head)?;
    // Counted among the cluster's outstanding requests until the exchange ends, as Envoy's
    // gRPC client (which goes through the router) is.
    let mut admission = cluster.admission.admit().map_err(SendError::from)?;
    let response = cluster.send(&mut admission, endpoint, request).await?;
    Ok((admission, response))
}

/// Turns a response into the callbacks Envoy's client gives.
struct Reader<'a> {
    emit: Emit<'a>,
    decoder: Decoder,
    /// Envoy's response-code details for this exchange, which its client appends to the
    /// close's message (`proxy_get_status`): `via_upstream` for a response from the server.
    details: String,
}

impl Reader<'_> {
    /// The response's headers; false when the exchange is over.
    fn headers(&mut self, map: HeaderMap, ended: bool) -> bool {
        let status: u16 = map
            .get_str(":status")
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        if status == 200 && !ended {
            return (self.emit)(GrpcReceived::InitialMetadata(map));
        }
        if !(self.emit)(GrpcReceived::InitialMetadata(HeaderMap::new())) {
            return false;
        }
        if status == 200 || (ended && wire::status_of(&map).is_some()) {
            self.trailers(map);
        } else {
            self.error(wire::status_of_http(status));
        }
        false
    }

    /// Response data; false when the exchange is over.
    fn data(&mut self, data: &[u8]) -> bool {
        match self.decoder.push(data) {
            Ok(messages) => messages
                .into_iter()
                .all(|message| (self.emit)(GrpcReceived::Message(message))),
            Err(e) => {
                self.error(e.code());
                false
            }
        }
    }

    fn trailers(&mut self, map: HeaderMap) {
        let code = wire::status_of(&map).unwrap_or(code::UNKNOWN);
        let message = self.enhanced(wire::message_of(&map));
        if (self.emit)(GrpcReceived::TrailingMetadata(map)) {
            (self.emit)(GrpcReceived::Close { code, message });
        }
    }

    fn error(&mut self, code: u32) {
        let message = self.enhanced(String::new());
        if (self.emit)(GrpcReceived::TrailingMetadata(HeaderMap::new())) {
            (self.emit)(GrpcReceived::Close { code, message });
        }
    }

    /// The close's message as Envoy's client gives it: the status message with the details
    /// in braces after it, or the details alone.
    fn enhanced(&self, message: String) -> String {
        match (message.is_empty(), self.details.is_empty()) {
            (_, true) => message,
            (true, false) => self.details.clone(),
            (false, false) => format!("{message}{{{}}}", self.details),
        }
    }
}
