//! `grpc-ratelimit`: the pattern of Envoy's rate-limit filter and Kuadrant's wasm-shim. Each
//! request asks `envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit` (the test server's
//! `tests/grpc/ratelimit.proto`, wire-compatible with Envoy's) on the cluster named by
//! `x-abi-upstream`, with the domain `wasmesh` and one descriptor `user=<x-abi-user>`, and waits
//! for the answer: `OVER_LIMIT` is a 429, `OK` lets the request on to the backend (marked
//! `x-abi-ratelimit: ok`), and a call that fails is a 503 naming its status (fail closed).

use std::time::Duration;

use prost::Message;
use proxy_wasm::hostcalls;
use proxy_wasm::types::{Action, BufferType, MapType};

use crate::case::{Case, Env};
use crate::{names, report};

#[derive(Clone, PartialEq, prost::Message)]
struct Entry {
    #[prost(string, tag = "1")]
    key: String,
    #[prost(string, tag = "2")]
    value: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct RateLimitDescriptor {
    #[prost(message, repeated, tag = "1")]
    entries: Vec<Entry>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct RateLimitRequest {
    #[prost(string, tag = "1")]
    domain: String,
    #[prost(message, repeated, tag = "2")]
    descriptors: Vec<RateLimitDescriptor>,
    #[prost(uint32, tag = "3")]
    hits_addend: u32,
}

#[derive(Clone, PartialEq, prost::Message)]
struct RateLimitResponse {
    #[prost(int32, tag = "1")]
    overall_code: i32,
}

/// `RateLimitResponse.Code.OVER_LIMIT`.
const OVER_LIMIT: i32 = 2;

/// The case.
pub struct RateLimit;

fn reply(status: u32, verdict: &str, body: &str) {
    let _ = hostcalls::send_http_response(
        status,
        vec![("x-abi-ratelimit", verdict), ("content-type", "text/plain")],
        Some(body.as_bytes()),
    );
}

impl Case for RateLimit {
    fn on_request_headers(&mut self, _: &Env<'_>, _: usize, _: bool) -> Action {
        let upstream = report::request_header(names::UPSTREAM_HEADER).unwrap_or_default();
        let user = report::request_header("x-abi-user").unwrap_or_default();
        let request = RateLimitRequest {
            domain: "wasmesh".into(),
            descriptors: vec![RateLimitDescriptor {
                entries: vec![Entry {
                    key: "user".into(),
                    value: user,
                }],
            }],
            hits_addend: 1,
        };
        match hostcalls::dispatch_grpc_call(
            &upstream,
            "envoy.service.ratelimit.v3.RateLimitService",
            "ShouldRateLimit",
            vec![],
            Some(&request.encode_to_vec()),
            Duration::from_secs(5),
        ) {
            Ok(_) => Action::Pause,
            Err(e) => {
                reply(503, "error", &format!("dispatch: {e:?}"));
                Action::Pause
            }
        }
    }

    fn on_grpc_call_response(&mut self, _: &Env<'_>, _: u32, status: u32, size: usize) {
        if status != 0 {
            return reply(
                503,
                "error",
                &format!("rate limit service: status {status}"),
            );
        }
        let bytes = hostcalls::get_buffer(BufferType::GrpcReceiveBuffer, 0, size)
            .ok()
            .flatten()
            .unwrap_or_default();
        match RateLimitResponse::decode(bytes.as_slice()) {
            Ok(answer) if answer.overall_code == OVER_LIMIT => {
                reply(429, "over-limit", "over limit")
            }
            Ok(_) => {
                let _ = hostcalls::set_map_value(
                    MapType::HttpRequestHeaders,
                    "x-abi-ratelimit",
                    Some("ok"),
                );
                let _ = hostcalls::resume_http_request();
            }
            Err(_) => reply(503, "error", "rate limit service: undecodable answer"),
        }
    }
}
