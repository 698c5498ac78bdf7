//! `trailers`: trailer maps where the spec allows them: read and edited in the trailers
//! callbacks, added in the end-of-stream body callback when the message has none.
//!
//! What the request side saw is reported in response headers; the response trailer added at
//! the end of the body reaches the client only over a protocol that carries trailers (h2).

use proxy_wasm::hostcalls;
use proxy_wasm::types::{Action, MapType};

use crate::case::{Case, Env};
use crate::report::{self, ABSENT};
use crate::{raw, status};

/// What the request side saw, reported on response headers.
#[derive(Default)]
pub struct Trailers {
    /// Status of adding a request trailer in the last body callback (`None`: not attempted).
    request_add: Option<String>,
    /// Number of request trailers seen in `on_request_trailers`.
    request_trailers: Option<usize>,
    /// The `x-abi-trailer` request trailer.
    request_trailer_value: Option<String>,
}

impl Case for Trailers {
    fn on_request_body(&mut self, _: &Env<'_>, _: usize, eos: bool) -> Action {
        if eos && self.request_trailers.is_none() {
            let st = raw::add_map_value(MapType::HttpRequestTrailers, "x-abi-added-trailer", "1");
            self.request_add = Some(status::name(st));
        }
        Action::Continue
    }

    fn on_request_trailers(&mut self, _: &Env<'_>, _: usize) -> Action {
        let map = MapType::HttpRequestTrailers;
        self.request_trailers = Some(report::pairs(map).len());
        self.request_trailer_value = report::header(map, "x-abi-trailer");
        if let Err(s) = hostcalls::add_map_value(map, "x-abi-trailer-added", "1") {
            log::error!("abi-test: add request trailer: {}", status::of(s));
        }
        report::set_header(map, "x-abi-trailer", "replaced");
        if let Err(s) = hostcalls::remove_map_value(map, "x-abi-trailer-remove") {
            log::error!("abi-test: remove request trailer: {}", status::of(s));
        }
        Action::Continue
    }

    fn on_response_headers(&mut self, _: &Env<'_>, _: usize, _: bool) -> Action {
        let map = MapType::HttpResponseHeaders;
        let count = self
            .request_trailers
            .map_or_else(|| "none".to_string(), |n| n.to_string());
        report::set_header(map, "x-abi-req-trailers", &count);
        let value = self.request_trailer_value.as_deref().unwrap_or(ABSENT);
        report::set_header(map, "x-abi-req-trailer", value);
        let add = self.request_add.as_deref().unwrap_or("not-called");
        report::set_header(map, "x-abi-req-trailer-add", add);
        Action::Continue
    }

    fn on_response_body(&mut self, _: &Env<'_>, _: usize, eos: bool) -> Action {
        if eos {
            let st = raw::add_map_value(MapType::HttpResponseTrailers, "x-abi-resp-trailer", "1");
            log::info!(
                "abi-test: trailers: adding a response trailer: {}",
                status::name(st)
            );
        }
        Action::Continue
    }

    fn on_response_trailers(&mut self, _: &Env<'_>, num_trailers: usize) -> Action {
        let n = num_trailers.to_string();
        report::set_header(
            MapType::HttpResponseTrailers,
            "x-abi-resp-trailers-seen",
            &n,
        );
        Action::Continue
    }
}
