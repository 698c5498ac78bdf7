//! `close`, `close-response`: `proxy_close_stream` on the request or the response; the client
//! sees the stream reset (HTTP/1.1: the connection closes without a complete response).

use proxy_wasm::hostcalls;
use proxy_wasm::types::Action;

use crate::case::{Case, Env};
use crate::status;

/// Which direction is reset.
pub enum Close {
    /// `reset_http_request` in `on_request_headers`.
    Request,
    /// `reset_http_response` in `on_response_headers`.
    Response,
}

impl Case for Close {
    fn on_request_headers(&mut self, _: &Env<'_>, _: usize, _: bool) -> Action {
        match self {
            Self::Request => {
                if let Err(s) = hostcalls::reset_http_request() {
                    log::error!("abi-test: reset_http_request: {}", status::of(s));
                }
                Action::Pause
            }
            Self::Response => Action::Continue,
        }
    }

    fn on_response_headers(&mut self, _: &Env<'_>, _: usize, _: bool) -> Action {
        match self {
            Self::Response => {
                if let Err(s) = hostcalls::reset_http_response() {
                    log::error!("abi-test: reset_http_response: {}", status::of(s));
                }
                Action::Pause
            }
            Self::Request => Action::Continue,
        }
    }
}
