//! `http-call`, `http-call-timeout`, `http-call-bad-cluster`: `proxy_http_call` to the cluster
//! named by `x-abi-upstream`, and everything `on_http_call_response` can read.

use std::time::Duration;

use proxy_wasm::hostcalls;
use proxy_wasm::types::{Action, BufferType, MapType};
use serde_json::{json, Map, Value};

use crate::case::{Case, Env};
use crate::report::{self, text};
use crate::{names, raw, status};

/// Which call is made.
#[derive(Clone, Copy)]
pub enum Kind {
    /// GET `/from-http-call` with a body and a trailer, 5 s timeout.
    Echo,
    /// GET `/delay?ms=2000` with a 100 ms timeout.
    Timeout,
    /// Dispatches that must be refused (unknown cluster, missing `:path`) and one that must
    /// not be (an empty `:authority`, which Envoy accepts).
    BadCluster,
}

/// The case; remembers the token it dispatched.
pub struct HttpCall {
    kind: Kind,
    token: Option<u32>,
}

impl HttpCall {
    /// A case making the `kind` call.
    pub fn new(kind: Kind) -> Self {
        Self { kind, token: None }
    }
}

/// Headers of every call: the three the spec requires, plus a marker the echo shows.
fn call_headers(path: &str) -> Vec<(&str, &str)> {
    vec![
        (":method", "GET"),
        (":path", path),
        (":authority", "x"),
        ("x-abi-call", "1"),
    ]
}

/// Dispatches a GET of `path` to `upstream`; used by the resume cases too.
pub fn dispatch(upstream: &str, path: &str, timeout: Duration) -> Result<u32, String> {
    hostcalls::dispatch_http_call(upstream, call_headers(path), None, vec![], timeout)
        .map_err(status::of)
}

/// The call response's `:status`, read from the pairs (readable even when the call failed).
pub fn call_status() -> Option<String> {
    report::pairs(MapType::HttpCallResponseHeaders)
        .into_iter()
        .find(|(name, _)| name == ":status")
        .map(|(_, value)| value)
}

/// Everything `on_http_call_response` can read, as JSON (see README for the fields).
fn call_report(num_headers: usize, body_size: usize, num_trailers: usize) -> Value {
    let headers = report::pairs(MapType::HttpCallResponseHeaders);
    let find = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    // Single-value reads only when the call produced headers: without a response the map does
    // not exist and a host may rightly answer BadArgument.
    let x_backend = if num_headers > 0 {
        report::header(MapType::HttpCallResponseHeaders, "x-backend")
    } else {
        None
    };
    let body = match hostcalls::get_buffer(BufferType::HttpCallResponseBody, 0, body_size) {
        Ok(Some(bytes)) => {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::from(text(&bytes)))
        }
        Ok(None) => Value::Null,
        Err(s) => json!({"error": status::of(s)}),
    };
    let trailers: Map<String, Value> = report::pairs(MapType::HttpCallResponseTrailers)
        .into_iter()
        .map(|(n, v)| (n, Value::from(v)))
        .collect();
    let (st, code, message) = raw::get_status();
    json!({
        "num_headers": num_headers,
        "body_size": body_size,
        "num_trailers": num_trailers,
        "header_pairs": headers.len(),
        "status": find(":status"),
        "content_type": find("content-type"),
        "x_backend": x_backend,
        "body": body,
        "trailers": trailers,
        "get_status": {
            "status": status::name(st),
            "code": code,
            // Empty and absent are the same answer; hosts differ in which they hand back.
            "message": message.map(|m| text(&m)).unwrap_or_default(),
        },
    })
}

impl Case for HttpCall {
    fn on_request_headers(&mut self, env: &Env<'_>, _: usize, _: bool) -> Action {
        let upstream = report::request_header(names::UPSTREAM_HEADER);
        if let Kind::BadCluster = self.kind {
            let unknown = dispatch(names::MISSING_CLUSTER, "/", Duration::from_secs(1));
            // Bodiless one-second calls to `x-abi-upstream` with these headers, if it was given.
            let try_dispatch = |headers: Vec<(&str, &str)>| {
                upstream.as_deref().map(|up| {
                    let timeout = Duration::from_secs(1);
                    let r = hostcalls::dispatch_http_call(up, headers, None, vec![], timeout);
                    status::of_result(&r)
                })
            };
            let no_path = try_dispatch(vec![(":method", "GET"), (":authority", "x")]);
            let empty_authority = try_dispatch(vec![
                (":method", "GET"),
                (":path", "/empty-authority"),
                (":authority", ""),
            ]);
            report::reply_json(
                env,
                200,
                &[],
                &json!({
                    "dispatch": unknown.err().unwrap_or_else(|| "Ok".into()),
                    "dispatch_without_path": no_path,
                    "dispatch_empty_authority": empty_authority,
                }),
            );
            return Action::Pause;
        }
        let Some(upstream) = upstream else {
            report::reply_json(
                env,
                400,
                &[],
                &json!({"error": "x-abi-upstream is required"}),
            );
            return Action::Pause;
        };
        let (path, timeout, body, trailers) = match self.kind {
            Kind::Echo => (
                "/from-http-call",
                Duration::from_secs(5),
                Some(&b"call-body"[..]),
                vec![("x-abi-call-trailer", "t")],
            ),
            _ => ("/delay?ms=2000", Duration::from_millis(100), None, vec![]),
        };
        match hostcalls::dispatch_http_call(&upstream, call_headers(path), body, trailers, timeout)
        {
            Ok(token) => self.token = Some(token),
            Err(s) => {
                report::reply_json(env, 200, &[], &json!({"dispatch": status::of(s)}));
            }
        }
        Action::Pause
    }

    fn on_http_call_response(
        &mut self,
        env: &Env<'_>,
        token: u32,
        num_headers: usize,
        body_size: usize,
        num_trailers: usize,
    ) {
        if let Kind::BadCluster = self.kind {
            return; // the stream has its answer already
        }
        let mut value = call_report(num_headers, body_size, num_trailers);
        value["dispatch"] = Value::from("Ok");
        value["token_matches"] = Value::from(self.token == Some(token));
        let status = value["status"].as_str().unwrap_or("none").to_string();
        report::reply_json(env, 200, &[("x-abi-http-call-status", status)], &value);
    }
}
