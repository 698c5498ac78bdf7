//! `grpc-call`, `grpc-stream`: real gRPC exchanges with the test server's `wasmesh.test.Echo`
//! (`tests/grpc/echo.proto`) on the cluster named by `x-abi-upstream`, through the Rust SDK as a
//! filter would make them. Each case replies once the exchange is over, with everything its
//! callbacks saw.

use std::time::Duration;

use prost::Message;
use proxy_wasm::hostcalls;
use proxy_wasm::types::{Action, BufferType, MapType};
use serde_json::{json, Value};

use crate::case::{Case, Env};
use crate::report;
use crate::{names, status};

/// The service and its messages (the fields of `echo.proto`).
const SERVICE: &str = "wasmesh.test.Echo";

#[derive(Clone, PartialEq, prost::Message)]
struct EchoRequest {
    #[prost(string, tag = "1")]
    text: String,
    #[prost(uint32, tag = "2")]
    delay_ms: u32,
    #[prost(uint32, tag = "3")]
    fail_code: u32,
    #[prost(string, tag = "4")]
    fail_message: String,
    #[prost(uint32, tag = "5")]
    replies: u32,
}

#[derive(Clone, PartialEq, prost::Message)]
struct EchoReply {
    #[prost(string, tag = "1")]
    text: String,
    #[prost(string, tag = "2")]
    method: String,
    #[prost(string, repeated, tag = "3")]
    metadata: Vec<String>,
    #[prost(uint32, tag = "4")]
    sequence: u32,
}

/// A request header as a number (0 when absent or not one).
fn number(name: &str) -> u32 {
    report::request_header(name)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// `x-abi-grpc-fail: <code>:<message>`, if given.
fn failure() -> (u32, String) {
    report::request_header("x-abi-grpc-fail")
        .and_then(|v| {
            let (code, message) = v.split_once(':')?;
            Some((code.parse().ok()?, message.to_string()))
        })
        .unwrap_or_default()
}

/// The target as the filter names it: the cluster's name, or (`x-abi-grpc-target: proto`) a
/// serialized `GrpcService` with `envoy_grpc.cluster_name`, as the C++ SDK sends it.
fn target(upstream: &str) -> String {
    if report::request_header("x-abi-grpc-target").as_deref() != Some("proto") {
        return upstream.to_string();
    }
    let mut envoy_grpc = vec![0x0a, upstream.len() as u8];
    envoy_grpc.extend_from_slice(upstream.as_bytes());
    let mut service = vec![0x0a, envoy_grpc.len() as u8];
    service.extend_from_slice(&envoy_grpc);
    // Every byte is below 0x80 for a short ASCII name, so this is valid UTF-8.
    String::from_utf8(service).expect("an ASCII cluster name")
}

/// A received message, decoded, or its bytes as hex when it is no `EchoReply`.
fn reply(bytes: &[u8]) -> Value {
    match EchoReply::decode(bytes) {
        Ok(r) => {
            json!({"text": r.text, "method": r.method, "metadata": r.metadata, "sequence": r.sequence})
        }
        Err(_) => json!({"undecodable": report::hex(bytes)}),
    }
}

/// `proxy_get_status` during a close callback.
fn close_status() -> Value {
    let (code, message) = hostcalls::get_grpc_status().unwrap_or((u32::MAX, None));
    json!({"code": code, "message": message})
}

/// The values of `names` in a gRPC metadata map (`null` when absent).
fn metadata(map: MapType, names: &[&str]) -> Value {
    let pairs = report::pairs(map);
    let mut out = serde_json::Map::new();
    for name in names {
        let value = pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone());
        out.insert(name.to_string(), json!(value));
    }
    Value::Object(out)
}

/// `grpc-call`: one unary `Unary` call; replies from its single callback.
#[derive(Default)]
pub struct Call {
    token: Option<u32>,
}

impl Case for Call {
    fn on_request_headers(&mut self, env: &Env<'_>, _: usize, _: bool) -> Action {
        let upstream = report::request_header(names::UPSTREAM_HEADER).unwrap_or_default();
        let (fail_code, fail_message) = failure();
        let request = EchoRequest {
            text: report::request_header("x-abi-grpc-text").unwrap_or_else(|| "hello".into()),
            delay_ms: number("x-abi-grpc-delay"),
            fail_code,
            fail_message,
            replies: 1,
        };
        let timeout = match number("x-abi-grpc-timeout") {
            0 => 5000,
            ms => ms,
        };
        match hostcalls::dispatch_grpc_call(
            &target(&upstream),
            SERVICE,
            "Unary",
            // A binary (`-bin`) value too: on the wire it must go base64-encoded.
            vec![
                ("x-abi-md", b"call".as_slice()),
                ("x-abi-md-bin", &[0, 1, 2, 0xff]),
            ],
            Some(&request.encode_to_vec()),
            Duration::from_millis(timeout.into()),
        ) {
            Ok(token) => {
                self.token = Some(token);
                Action::Pause
            }
            Err(e) => {
                report::reply_json(env, 200, &[], &json!({"dispatch": status::of(e)}));
                Action::Pause
            }
        }
    }

    fn on_grpc_call_response(&mut self, env: &Env<'_>, token: u32, code: u32, size: usize) {
        let body = match hostcalls::get_buffer(BufferType::GrpcReceiveBuffer, 0, size) {
            Ok(Some(bytes)) => reply(&bytes),
            Ok(None) => Value::Null,
            Err(e) => json!({"error": status::of(e)}),
        };
        let value = json!({
            "dispatch": "Ok",
            "same_token": self.token == Some(token),
            "token_kind": token & 3,
            "status_code": code,
            "size": size,
            "reply": body,
            "get_status": if code == 0 { Value::Null } else { close_status() },
        });
        report::reply_json(env, 200, &[], &value);
    }
}

/// `grpc-stream`: a bidirectional `Chat` stream; replies when it closes (or, with
/// `x-abi-grpc-end: cancel`, after the first reply, having cancelled it).
#[derive(Default)]
pub struct Stream {
    token: Option<u32>,
    events: Vec<Value>,
    cancel_after_first: bool,
}

impl Stream {
    fn finish(&self, env: &Env<'_>) {
        report::reply_json(env, 200, &[], &json!({"open": "Ok", "events": self.events}));
    }
}

impl Case for Stream {
    fn on_request_headers(&mut self, env: &Env<'_>, _: usize, _: bool) -> Action {
        let upstream = report::request_header(names::UPSTREAM_HEADER).unwrap_or_default();
        let token = match hostcalls::open_grpc_stream(
            &target(&upstream),
            SERVICE,
            "Chat",
            vec![("x-abi-md", b"stream")],
        ) {
            Ok(token) => token,
            Err(e) => {
                report::reply_json(env, 200, &[], &json!({"open": status::of(e)}));
                return Action::Pause;
            }
        };
        self.token = Some(token);
        let texts =
            report::request_header("x-abi-grpc-messages").unwrap_or_else(|| "one,two".into());
        let texts: Vec<&str> = texts.split(',').collect();
        let end = report::request_header("x-abi-grpc-end").unwrap_or_else(|| "close".into());
        self.cancel_after_first = end == "cancel";
        let (fail_code, fail_message) = failure();
        for (i, text) in texts.iter().enumerate() {
            let last = i + 1 == texts.len();
            let request = EchoRequest {
                text: text.to_string(),
                replies: number("x-abi-grpc-replies"),
                fail_code: if last { fail_code } else { 0 },
                fail_message: if last {
                    fail_message.clone()
                } else {
                    String::new()
                },
                delay_ms: 0,
            };
            let end_stream = last && end == "send";
            if let Err(e) = hostcalls::send_grpc_stream_message(
                token,
                Some(&request.encode_to_vec()),
                end_stream,
            ) {
                self.events.push(json!({"send": status::of(e)}));
            }
        }
        if end == "close" {
            if let Err(e) = hostcalls::close_grpc_stream(token) {
                self.events.push(json!({"close_stream": status::of(e)}));
            }
        }
        Action::Pause
    }

    fn on_grpc_stream_initial_metadata(&mut self, _: &Env<'_>, token: u32, count: u32) {
        let values = metadata(
            MapType::GrpcReceiveInitialMetadata,
            &["x-echo-initial", "content-type"],
        );
        self.events
            .push(json!({"initial": values, "empty": count == 0, "token_kind": token & 3}));
    }

    fn on_grpc_stream_message(&mut self, env: &Env<'_>, token: u32, size: usize) {
        let bytes = hostcalls::get_buffer(BufferType::GrpcReceiveBuffer, 0, size)
            .ok()
            .flatten()
            .unwrap_or_default();
        self.events.push(json!({"message": reply(&bytes)}));
        if self.cancel_after_first {
            let cancelled = hostcalls::cancel_grpc_stream(token).map_err(status::of);
            self.events
                .push(json!({"cancel": cancelled.err().unwrap_or_else(|| "Ok".into())}));
            self.cancel_after_first = false;
            self.finish(env);
        }
    }

    fn on_grpc_stream_trailing_metadata(&mut self, _: &Env<'_>, _: u32, count: u32) {
        let values = metadata(
            MapType::GrpcReceiveTrailingMetadata,
            &["x-echo-trailing", "grpc-status", "grpc-message"],
        );
        self.events
            .push(json!({"trailing": values, "empty": count == 0}));
    }

    fn on_grpc_stream_close(&mut self, env: &Env<'_>, _: u32, code: u32) {
        self.events
            .push(json!({"close": code, "get_status": close_status()}));
        self.finish(env);
    }
}
