//! `body-calls`: shows how a host passes bodies to the body callbacks. Each call appends
//! `[<body_size>,<end_of_stream>]` to the chunk it got, both ways, and lets it through, so the
//! backend's echo and the client's body spell out the calls (`hello[5,false][0,true]`).
//! `content-length` is dropped both ways, as a filter that changes a body's size must.

use proxy_wasm::hostcalls;
use proxy_wasm::types::{Action, BufferType, MapType};

use super::body::drop_content_length;
use crate::case::{Case, Env};
use crate::status;

/// The case (no state: every call writes its own mark).
pub struct BodyCalls;

fn mark(buffer: BufferType, body_size: usize, eos: bool) {
    let mark = format!("[{body_size},{eos}]");
    if let Err(s) = hostcalls::set_buffer(buffer, body_size, 0, mark.as_bytes()) {
        log::error!("abi-test: append to {buffer:?}: {}", status::of(s));
    }
}

impl Case for BodyCalls {
    fn on_request_headers(&mut self, _: &Env<'_>, _: usize, _: bool) -> Action {
        drop_content_length(MapType::HttpRequestHeaders);
        Action::Continue
    }

    fn on_request_body(&mut self, _: &Env<'_>, body_size: usize, eos: bool) -> Action {
        mark(BufferType::HttpRequestBody, body_size, eos);
        Action::Continue
    }

    fn on_response_headers(&mut self, _: &Env<'_>, _: usize, _: bool) -> Action {
        drop_content_length(MapType::HttpResponseHeaders);
        Action::Continue
    }

    fn on_response_body(&mut self, _: &Env<'_>, body_size: usize, eos: bool) -> Action {
        mark(BufferType::HttpResponseBody, body_size, eos);
        Action::Continue
    }
}
