//! `body`, `body-prepend`, `body-stream`: reading and rewriting request and response bodies,
//! buffered (pause until end of stream) and streamed (chunk by chunk).
//!
//! Length-changing rewrites drop `content-length` first, as Envoy requires of a filter that
//! changes a body's size; same-length rewrites (uppercasing) keep it.

use proxy_wasm::hostcalls;
use proxy_wasm::types::{Action, BufferType, MapType};

use crate::case::{Case, Env};
use crate::{raw, report, status};

/// Appended to the buffered response body by `body`.
pub const RESPONSE_SUFFIX: &[u8] = b"\n-- abi";
/// Prepended to the buffered response body by `body-prepend`.
pub const RESPONSE_PREFIX: &[u8] = b"abi --\n";
/// Prepended to the buffered request body by `body-prepend`.
pub const REQUEST_PREFIX: &[u8] = b"PRE:";

/// How bodies are handled.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Request uppercased in place at end of stream; response suffixed at end of stream.
    Buffer,
    /// Both bodies prefixed at end of stream.
    Prepend,
    /// Each chunk of both bodies uppercased as it passes; nothing is held.
    Stream,
}

/// The case, with what the request side saw (reported in response headers).
pub struct Body {
    mode: Mode,
    request_calls: usize,
    request_size: Option<usize>,
    request_buffer_status: Option<String>,
}

impl Body {
    /// A case in `mode`.
    pub fn new(mode: Mode) -> Self {
        Self {
            mode,
            request_calls: 0,
            request_size: None,
            request_buffer_status: None,
        }
    }

    fn changes_length(&self) -> bool {
        self.mode != Mode::Stream
    }
}

/// Replaces the first `size` bytes of `buffer` (the whole visible body) with their uppercase.
fn uppercase(buffer: BufferType, size: usize) {
    match hostcalls::get_buffer(buffer, 0, size) {
        Ok(Some(bytes)) => set(buffer, 0, size, &bytes.to_ascii_uppercase()),
        Ok(None) => {}
        Err(s) => log::error!("abi-test: get {buffer:?}: {}", status::of(s)),
    }
}

fn set(buffer: BufferType, start: usize, size: usize, value: &[u8]) {
    if let Err(s) = hostcalls::set_buffer(buffer, start, size, value) {
        log::error!("abi-test: set {buffer:?}: {}", status::of(s));
    }
}

/// Removes `content-length`, as a filter that changes a body's size must.
pub fn drop_content_length(map: MapType) {
    if let Err(s) = hostcalls::remove_map_value(map, "content-length") {
        log::error!("abi-test: remove content-length: {}", status::of(s));
    }
}

impl Case for Body {
    fn on_request_headers(&mut self, _: &Env<'_>, _: usize, _: bool) -> Action {
        if self.mode == Mode::Prepend {
            drop_content_length(MapType::HttpRequestHeaders);
        }
        Action::Continue
    }

    fn on_request_body(&mut self, _: &Env<'_>, body_size: usize, eos: bool) -> Action {
        let buffer = BufferType::HttpRequestBody;
        self.request_calls += 1;
        if self.mode == Mode::Stream {
            uppercase(buffer, body_size);
            return Action::Continue;
        }
        if !eos {
            return Action::Pause;
        }
        self.request_size = Some(body_size);
        let (st, size, _flags) = raw::get_buffer_status(buffer);
        self.request_buffer_status = Some(format!("{}:{size}", status::name(st)));
        match self.mode {
            Mode::Prepend => set(buffer, 0, 0, REQUEST_PREFIX),
            _ => uppercase(buffer, body_size),
        }
        Action::Continue
    }

    fn on_response_headers(&mut self, _: &Env<'_>, _: usize, _: bool) -> Action {
        let map = MapType::HttpResponseHeaders;
        if self.changes_length() {
            drop_content_length(map);
        }
        let size = self
            .request_size
            .map_or_else(|| "none".to_string(), |n| n.to_string());
        report::set_header(map, "x-abi-req-body-size", &size);
        report::set_header(map, "x-abi-req-body-calls", &self.request_calls.to_string());
        let buffer_status = self.request_buffer_status.as_deref().unwrap_or("none");
        report::set_header(map, "x-abi-req-buffer-status", buffer_status);
        Action::Continue
    }

    fn on_response_body(&mut self, _: &Env<'_>, body_size: usize, eos: bool) -> Action {
        let buffer = BufferType::HttpResponseBody;
        if self.mode == Mode::Stream {
            uppercase(buffer, body_size);
            return Action::Continue;
        }
        if !eos {
            return Action::Pause;
        }
        match self.mode {
            Mode::Prepend => set(buffer, 0, 0, RESPONSE_PREFIX),
            _ => set(buffer, body_size, 0, RESPONSE_SUFFIX),
        }
        Action::Continue
    }
}
