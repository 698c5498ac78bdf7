//! What the backend answers.
//!
//! | request | response |
//! |---|---|
//! | any path | 200, JSON echo: `{"backend", "method", "path" (with query), "headers", "body"}` |
//! | `/status/<code>` | the echo with status `<code>` (empty body for 1xx/204/304) |
//! | `/delay?ms=N` | the echo after waiting N ms |
//! | `/bytes?n=N` | N bytes of `application/octet-stream` |
//! | `/stream?chunks=N[&ms=M]` | a chunked body of N lines, M ms apart |
//! | `/ws` with `Upgrade: websocket` | `101`, then a WebSocket session: first message the JSON echo of the upgrade request, then every text message back as `<backend>: <text>` ([`crate::websocket`]) |
//! | any, on a flaky backend ([`crate::Flaky`]) | every n-th request: 503 `unavailable` |
//!
//! Every response carries `server: wasmesh-backend` and `x-backend: <name>`. Header names in the
//! echo are lowercase; repeated headers are joined with `", "`.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};

use crate::stream_body::ChannelBody;

/// The response body type: full or streamed.
pub type Body = BoxBody<Bytes, Infallible>;

/// Largest `/bytes?n=` served, so a typo cannot make the backend allocate gigabytes.
const MAX_BYTES: usize = 64 << 20;
/// Largest `/delay?ms=`, so a stuck test cannot leave a backend task sleeping forever.
const MAX_DELAY_MS: u64 = 60_000;

/// Answers one request; see the module docs for the behaviour.
pub async fn handle<B>(
    req: Request<B>,
    name: Arc<str>,
    requests_seen: Arc<AtomicU64>,
) -> Result<Response<Body>, Infallible>
where
    B: http_body::Body,
    B::Error: std::fmt::Display,
{
    requests_seen.fetch_add(1, Ordering::SeqCst);
    let (mut parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => {
            let msg = format!("reading the request body: {e}");
            return Ok(finish(text(StatusCode::BAD_REQUEST, msg), &name));
        }
    };
    let path = parts.uri.path();
    let query = parts.uri.query().unwrap_or("");
    let echo = || echo_json(&name, &parts, &body);

    let response = if path == "/ws" && crate::websocket::wanted(&parts) {
        let greeting = echo().to_string();
        match crate::websocket::accept(&mut parts, name.clone(), greeting) {
            Some(switching) => switching,
            None => text(StatusCode::BAD_REQUEST, "cannot upgrade".to_string()),
        }
    } else if let Some(code) = path.strip_prefix("/status/") {
        match code
            .parse::<u16>()
            .ok()
            .and_then(|c| StatusCode::from_u16(c).ok())
        {
            Some(status) if no_body(status) => empty(status),
            Some(status) => json(status, echo()),
            None => text(StatusCode::BAD_REQUEST, format!("bad status code {code:?}")),
        }
    } else if path == "/delay" {
        let ms = param(query, "ms").unwrap_or(0).min(MAX_DELAY_MS);
        tokio::time::sleep(Duration::from_millis(ms)).await;
        json(StatusCode::OK, echo())
    } else if path == "/bytes" {
        let n = param(query, "n").unwrap_or(0).min(MAX_BYTES as u64) as usize;
        bytes_response(n)
    } else if path == "/stream" {
        let chunks = param(query, "chunks").unwrap_or(1);
        let ms = param(query, "ms").unwrap_or(0).min(MAX_DELAY_MS);
        stream_response(chunks, ms)
    } else {
        json(StatusCode::OK, echo())
    };
    Ok(finish(response, &name))
}

/// The 503 a flaky backend gives the requests it fails (text `unavailable`).
pub fn unavailable(name: &str) -> Response<Body> {
    let response = text(StatusCode::SERVICE_UNAVAILABLE, "unavailable".to_string());
    finish(response, name)
}

/// The echo document: what the backend saw, for tests to assert on.
fn echo_json(name: &str, parts: &http::request::Parts, body: &Bytes) -> serde_json::Value {
    let path = parts
        .uri
        .path_and_query()
        .map(|pq| pq.as_str())
        .unwrap_or("/");
    serde_json::json!({
        "backend": name,
        "method": parts.method.as_str(),
        "path": path,
        "headers": headers_json(&parts.headers),
        "body": String::from_utf8_lossy(body),
    })
}

/// Lowercase name → values joined with `", "`, sorted by name so the echo is stable.
fn headers_json(headers: &HeaderMap) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes());
        out.entry(name.as_str().to_string())
            .and_modify(|v| {
                v.push_str(", ");
                v.push_str(&value);
            })
            .or_insert_with(|| value.into_owned());
    }
    out
}

/// `name=<u64>` from a query string; absent or unparsable is `None`.
fn param(query: &str, name: &str) -> Option<u64> {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .and_then(|(_, v)| v.parse().ok())
}

fn no_body(status: StatusCode) -> bool {
    status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
}

fn json(status: StatusCode, value: serde_json::Value) -> Response<Body> {
    let mut body = serde_json::to_vec(&value).expect("a JSON value serializes");
    body.push(b'\n');
    with_type(status, "application/json", full(body))
}

fn text(status: StatusCode, msg: String) -> Response<Body> {
    with_type(status, "text/plain", full(msg + "\n"))
}

pub(crate) fn empty(status: StatusCode) -> Response<Body> {
    let mut response = Response::new(full(Bytes::new()));
    *response.status_mut() = status;
    response
}

/// `n` bytes of `abc…zabc…`, built by copying the alphabet (std's `repeat` doubles what it has
/// copied): a byte at a time, an unoptimized test build took long enough over 16 MiB under load
/// that four such requests missed a 1 s route timeout before their head was sent.
fn bytes_response(n: usize) -> Response<Body> {
    const ALPHABET: &[u8; 26] = b"abcdefghijklmnopqrstuvwxyz";
    let mut body = ALPHABET.repeat(n.div_ceil(ALPHABET.len()));
    body.truncate(n);
    with_type(StatusCode::OK, "application/octet-stream", full(body))
}

/// A response without `content-length`, so HTTP/1.1 sends it chunked (and h2 as several frames).
fn stream_response(chunks: u64, ms: u64) -> Response<Body> {
    let (tx, body) = ChannelBody::new();
    tokio::spawn(async move {
        for i in 0..chunks {
            if i > 0 && ms > 0 {
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
            if tx.send(Bytes::from(format!("chunk {i}\n"))).await.is_err() {
                return; // the client went away
            }
        }
    });
    with_type(StatusCode::OK, "text/plain", body.boxed())
}

fn full(body: impl Into<Bytes>) -> Body {
    Full::new(body.into()).boxed()
}

fn with_type(status: StatusCode, content_type: &'static str, body: Body) -> Response<Body> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(content_type),
    );
    response
}

/// Adds the headers every response carries.
fn finish(mut response: Response<Body>, name: &str) -> Response<Body> {
    let headers = response.headers_mut();
    headers.insert(
        http::header::SERVER,
        HeaderValue::from_static("wasmesh-backend"),
    );
    if let Ok(value) = HeaderValue::from_str(name) {
        headers.insert("x-backend", value);
    }
    response
}

#[cfg(test)]
mod tests;
