//! The per-stream context: thin glue from the host's stream callbacks to the worker's
//! [`Service`] and its retry state machine.
//!
//! Request headers: count the request in the budget, start its deadline, and keep its
//! headers if its method may be retried. Request body: keep it as it streams through (nothing
//! is held back) up to `retry.max_body_bytes`. Response headers (after `lb`'s): classify the
//! outcome for the endpoint `lb` picked (read back from its echo header), feed outlier
//! detection, and on a retryable failure pause the response while a retry is sent to a
//! different healthy endpoint (now, or by the root's tick after its backoff).

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;

use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::{Action, BufferType, MapType};
use wasmesh_common::failover::captured::CapturedHeaders;
use wasmesh_common::failover::classify::classify;
use wasmesh_common::failover::replay::Replay;
use wasmesh_filter_glue::abi::serialized_pairs;
use wasmesh_filter_glue::clock::now_ms;

use crate::effects::{call_body, call_head};
use crate::reply;
use crate::service::Service;

/// One per HTTP stream.
pub struct FailoverStream {
    id: u32,
    service: Option<Rc<RefCell<Service>>>,
}

impl FailoverStream {
    /// Stream context `id` of the worker's service (`None` if never configured: requests pass
    /// untouched).
    pub fn new(id: u32, service: Option<Rc<RefCell<Service>>>) -> Self {
        Self { id, service }
    }
}

impl Drop for FailoverStream {
    /// The host deleted the stream: forget its state (a retry still in flight is ignored
    /// when it answers).
    fn drop(&mut self) {
        if let Some(Ok(mut svc)) = self.service.as_ref().map(|s| s.try_borrow_mut()) {
            svc.retries.forget(self.id);
        }
    }
}

impl Context for FailoverStream {
    fn on_http_call_response(&mut self, token: u32, headers: usize, body_size: usize, _: usize) {
        if let Some(service) = &self.service {
            let now = now_ms();
            service.borrow_mut().drive(self.id, |retries, fx| {
                retries.on_call_response(fx, token, call_head(headers), call_body(body_size), now);
            });
        }
    }
}

impl HttpContext for FailoverStream {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        let Some(service) = self.service.clone() else {
            return Action::Continue;
        };
        let mut svc = service.borrow_mut();
        let now = now_ms();
        let method = hostcalls::get_map_value(MapType::HttpRequestHeaders, ":method")
            .ok()
            .flatten()
            .unwrap_or_default();
        let config = svc.retries.config();
        let replay = if config.retries_method(&method) {
            let headers = serialized_pairs(MapType::HttpRequestHeaders);
            let headers =
                reply::replayable(CapturedHeaders::from_serialized(headers), &config.header);
            Replay::start(headers, end_of_stream)
        } else {
            Replay::No
        };
        svc.drive(self.id, |retries, fx| {
            retries.on_request(fx, self.id, replay, now);
        });
        Action::Continue
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        let Some(service) = &self.service else {
            return Action::Continue;
        };
        let mut svc = service.borrow_mut();
        if svc.retries.wants_body(self.id) {
            let chunk = hostcalls::get_buffer(BufferType::HttpRequestBody, 0, body_size)
                .ok()
                .flatten()
                .unwrap_or_default();
            svc.retries.on_request_body(self.id, &chunk, end_of_stream);
        }
        Action::Continue
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        let Some(service) = self.service.clone() else {
            return Action::Continue;
        };
        let mut svc = service.borrow_mut();
        if !svc.retries.awaits_response(self.id) {
            return Action::Continue; // e.g. this filter's own timeout reply
        }
        let config = svc.retries.config();
        let Some(endpoint) = picked(config.response_header.as_deref(), &config.header) else {
            svc.retries.on_unattributed_response(self.id);
            return Action::Continue;
        };
        let status = hostcalls::get_map_value(MapType::HttpResponseHeaders, ":status")
            .ok()
            .flatten()
            .and_then(|s| s.parse::<u16>().ok());
        let details = property(&["response", "code_details"]);
        let outcome = classify(status, details.as_deref());
        let now = now_ms();
        let paused = svc.drive(self.id, |retries, fx| {
            retries.on_response(fx, self.id, endpoint, outcome, now)
        });
        if paused {
            Action::Pause
        } else {
            Action::Continue
        }
    }
}

/// The endpoint `lb` picked. Envoy refuses request-header reads in the response phase
/// (`BadArgument`) and has no `request.headers.<name>` property, so the portable source is
/// `lb`'s echo of its pick in the response header `echo` (lb's `response_header`, set before
/// this filter sees the response, local replies included). Without one configured, the
/// `request.headers.<pick header>` property (wasmesh only).
fn picked(echo: Option<&str>, pick_header: &str) -> Option<SocketAddr> {
    let from_echo = echo.and_then(|name| {
        hostcalls::get_map_value(MapType::HttpResponseHeaders, name)
            .ok()
            .flatten()
    });
    let value = from_echo.or_else(|| property(&["request", "headers", pick_header]))?;
    value.parse().ok()
}

fn property(path: &[&str]) -> Option<String> {
    let bytes = hostcalls::get_property(path.to_vec()).ok()??;
    String::from_utf8(bytes).ok()
}
