//! `local-reply`, `local-reply-in-response`, `grpc-local-reply`: `proxy_send_local_response`
//! from the request path, from the response path, and with a gRPC status.

use proxy_wasm::hostcalls;
use proxy_wasm::types::{Action, GrpcStatusCode, MapType};

use crate::case::{Case, Env};
use crate::{names, report, status};

/// Where the local reply is sent from.
pub enum LocalReply {
    /// 418 from `on_request_headers`.
    InRequest,
    /// 418 from `on_response_headers`, replacing the upstream response.
    InResponse,
    /// gRPC `UNAVAILABLE` (14) from `on_request_headers`.
    Grpc,
}

fn teapot(header: &str, body: &[u8]) {
    if let Err(s) = hostcalls::send_http_response(418, vec![("x-abi", header)], Some(body)) {
        log::error!("abi-test: send_http_response: {}", status::of(s));
    }
}

impl Case for LocalReply {
    fn on_request_headers(&mut self, _: &Env<'_>, _: usize, _: bool) -> Action {
        match self {
            Self::InRequest => teapot("local", b"teapot\n"),
            Self::Grpc => {
                let result = hostcalls::send_grpc_response(
                    GrpcStatusCode::Unavailable,
                    Some("abi-grpc"),
                    vec![("x-abi", b"grpc")],
                );
                if let Err(s) = result {
                    log::error!("abi-test: send_grpc_response: {}", status::of(s));
                }
            }
            Self::InResponse => return Action::Continue,
        }
        Action::Pause
    }

    fn on_response_headers(&mut self, _: &Env<'_>, _: usize, _: bool) -> Action {
        match self {
            Self::InResponse => {
                teapot("local-response", b"teapot from response\n");
                Action::Pause
            }
            Self::InRequest => {
                report_reply_head();
                Action::Continue
            }
            Self::Grpc => Action::Continue,
        }
    }
}

/// Reports the head of its own reply as the response callbacks see it: every header, as
/// `name=value` in the order the host gives them (`x-abi-reply-head`).
fn report_reply_head() {
    let map = MapType::HttpResponseHeaders;
    let head: Vec<String> = report::pairs(map)
        .into_iter()
        .filter(|(name, _)| name != names::RESPONSE_SEEN_HEADER)
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    report::set_header(map, "x-abi-reply-head", &head.join(","));
}
