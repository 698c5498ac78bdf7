//! The per-stream context: thin glue from the host's stream callbacks to the stream's
//! [`Flight`] in the worker's [`Service`] and to [`crate::retry`].
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
use wasmesh_common::failover::classify::classify;
use wasmesh_common::failover::replay::Replay;
use wasmesh_filter_glue::clock::now_ms;

use crate::flight::Flight;
use crate::reply;
use crate::retry;
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
            svc.flights.remove(&self.id);
            svc.schedule.forget(self.id);
        }
    }
}

impl Context for FailoverStream {
    fn on_http_call_response(&mut self, token: u32, headers: usize, body_size: usize, _: usize) {
        if let Some(service) = &self.service {
            retry::on_call_response(
                &mut service.borrow_mut(),
                token,
                headers,
                body_size,
                self.id,
            );
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
        svc.budget.deposit(now);
        let method = hostcalls::get_map_value(MapType::HttpRequestHeaders, ":method")
            .ok()
            .flatten()
            .unwrap_or_default();
        let mut flight = Flight::default();
        if svc.config.retries_method(&method) {
            let headers = hostcalls::get_map(MapType::HttpRequestHeaders).unwrap_or_default();
            flight.replay = Replay::start(
                reply::replayable(headers, &svc.config.header),
                end_of_stream,
            );
        }
        svc.flights.insert(self.id, flight);
        if svc.config.timeout_ms > 0 {
            let deadline = now + svc.config.timeout_ms;
            svc.schedule.set_deadline(self.id, deadline);
            svc.retune_tick(now);
        }
        Action::Continue
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        let Some(service) = &self.service else {
            return Action::Continue;
        };
        let mut svc = service.borrow_mut();
        let limit = svc.config.retry.max_body_bytes;
        if let Some(flight) = svc.flights.get_mut(&self.id) {
            if matches!(flight.replay, Replay::Buffering { .. }) {
                let chunk = hostcalls::get_buffer(BufferType::HttpRequestBody, 0, body_size)
                    .ok()
                    .flatten()
                    .unwrap_or_default();
                flight.replay.buffer(&chunk, end_of_stream, limit);
            }
        }
        Action::Continue
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        let Some(service) = self.service.clone() else {
            return Action::Continue;
        };
        let mut svc = service.borrow_mut();
        if svc.flights.get(&self.id).is_none_or(|f| f.answered) {
            return Action::Continue; // e.g. this filter's own timeout reply
        }
        let config = &svc.config;
        let Some(endpoint) = picked(config.response_header.as_deref(), &config.header) else {
            svc.schedule.forget(self.id);
            return Action::Continue;
        };
        let status = hostcalls::get_map_value(MapType::HttpResponseHeaders, ":status")
            .ok()
            .flatten()
            .and_then(|s| s.parse::<u16>().ok());
        let details = property(&["response", "code_details"]);
        let outcome = classify(status, details.as_deref());
        let now = now_ms();
        svc.record(endpoint, outcome, now);
        if let Some(flight) = svc.flights.get_mut(&self.id) {
            flight.tried.push(endpoint);
        }
        if retry::after_failure(&mut svc, self.id, outcome, now) {
            return Action::Pause;
        }
        // The response goes through: nothing more to do for this stream (its kept body freed).
        svc.flights.remove(&self.id);
        svc.schedule.forget(self.id);
        Action::Continue
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
