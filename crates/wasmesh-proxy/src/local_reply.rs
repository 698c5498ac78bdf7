//! Building responses the proxy makes itself: local replies from filters
//! (sent back through the response filters, as Envoy does) and the
//! proxy's own errors (404 no route, 503 no upstream, 504 timeout).

use std::rc::Rc;

use super::body::{self, ProxyBody};
use super::headers_conv::into_http_headers;
use wasmesh_host::chain::{ChainStream, Step};
use wasmesh_host::headers::HeaderMap;
use wasmesh_host::store::LocalReply;

/// The result type of a stream handler: a response, or an error that resets the stream.
pub type HandlerResult = Result<http::Response<ProxyBody>, super::body::BoxError>;

/// Envoy's mapping of an HTTP status to a gRPC status for local replies.
fn grpc_status_of(http: u16) -> u32 {
    match http {
        400 => 13,
        401 => 16,
        403 => 7,
        404 => 12,
        429 | 502..=504 => 14,
        _ => 2,
    }
}

/// Percent-encodes a `grpc-message` as the gRPC spec asks.
fn grpc_message(body: &[u8]) -> String {
    let mut out = String::new();
    for &b in body {
        if (0x20..0x7f).contains(&b) && b != b'%' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A reply to a gRPC request becomes a trailers-only gRPC error, as in Envoy:
/// `:status 200`, `content-type: application/grpc`, `grpc-status`, the body in
/// `grpc-message`.
fn as_grpc(mut reply: LocalReply) -> LocalReply {
    let status = reply
        .grpc_status
        .unwrap_or_else(|| grpc_status_of(reply.status));
    let message = grpc_message(&reply.body);
    reply.headers.replace(b"content-type", b"application/grpc");
    reply
        .headers
        .replace(b"grpc-status", status.to_string().as_bytes());
    if !message.is_empty() {
        reply.headers.replace(b"grpc-message", message.as_bytes());
    }
    reply.status = 200;
    reply.body.clear();
    reply
}

/// The reply's head as Envoy's `sendLocalReply` builds it, which is what the response filters
/// see: `:status`, the filter's headers, then, with a body, its `content-length` and a
/// `content-type` (`text/plain` unless the filter gave one).
fn head(reply: &LocalReply) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.add(b":status", reply.status.to_string().as_bytes());
    for (k, v) in reply.headers.iter() {
        headers.add(k, v);
    }
    if !reply.body.is_empty() {
        headers.replace(b"content-length", reply.body.len().to_string().as_bytes());
        if headers.get(b"content-type").is_none() {
            headers.add(b"content-type", b"text/plain");
        }
    }
    headers
}

/// Builds a hyper response from a filtered header map and a body.
pub fn build(headers: &HeaderMap, body: ProxyBody) -> HandlerResult {
    build_into(headers, body, http::HeaderMap::with_capacity(headers.len()))
}

/// [`build`], the response's header map made in `reuse`'s allocation (the upstream's head).
pub fn build_into(headers: &HeaderMap, body: ProxyBody, reuse: http::HeaderMap) -> HandlerResult {
    let status = headers
        .get_str(":status")
        .and_then(|s| s.parse::<u16>().ok())
        .and_then(|s| http::StatusCode::from_u16(s).ok())
        .unwrap_or(http::StatusCode::BAD_GATEWAY);
    let mut response = http::Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = into_http_headers(headers, reuse);
    Ok(response)
}

/// Sends a reply straight to the client, skipping the filters.
pub fn direct(stream: &ChainStream, reply: LocalReply) -> HandlerResult {
    let reply = if stream.info().is_grpc() {
        as_grpc(reply)
    } else {
        reply
    };
    stream.info().answered(reply.status, reply.details.clone());
    let mut headers = head(&reply);
    headers.remove(b"content-length");
    // What `on_log` reads as the response headers, as in Envoy.
    stream.info().response_headers_ended(headers.clone());
    build(&headers, body::full(reply.body))
}

/// Sends a reply through the response filters of the contexts created so far.
pub async fn through_filters(stream: Rc<ChainStream>, reply: LocalReply) -> HandlerResult {
    if reply.status >= 400 && !reply.details.is_empty() {
        log::debug!("local reply {} ({})", reply.status, reply.details);
    }
    let reply = if stream.info().is_grpc() {
        as_grpc(reply)
    } else {
        reply
    };
    stream.info().answered(reply.status, reply.details.clone());
    let mut headers = head(&reply);
    let end_of_stream = reply.body.is_empty();
    match stream.response_headers(&mut headers, end_of_stream).await {
        Step::Continue => {}
        Step::LocalReply(again) => return direct(&stream, again),
        Step::Reset => return Err("stream reset by a filter".into()),
    }
    let body = if end_of_stream {
        Vec::new()
    } else {
        match stream.response_body(reply.body, true).await {
            Ok(out) => out.data,
            Err(Step::LocalReply(again)) => return direct(&stream, again),
            Err(_) => return Err("stream reset by a filter".into()),
        }
    };
    headers.remove(b"content-length");
    stream.info().response_body_sent(body.len());
    build(&headers, body::full(body))
}
