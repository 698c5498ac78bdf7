//! The per-stream context: applies the request mutations on request headers and the response
//! mutations on response headers, and never holds a stream.

use std::rc::Rc;

use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::{Action, MapType};
use wasmesh_common::headers::HeadersConfig;

use crate::mutate;

/// One per HTTP stream; only borrows the root's configuration.
pub struct HeadersFilter {
    config: Rc<HeadersConfig>,
}

impl HeadersFilter {
    /// A stream context over the root's current configuration.
    pub fn new(config: Rc<HeadersConfig>) -> Self {
        Self { config }
    }
}

impl Context for HeadersFilter {}

impl HttpContext for HeadersFilter {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        if !self.config.request.is_empty() {
            mutate::apply(MapType::HttpRequestHeaders, &self.config.request);
        }
        Action::Continue
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        if !self.config.response.is_empty() {
            mutate::apply(MapType::HttpResponseHeaders, &self.config.response);
        }
        Action::Continue
    }
}
