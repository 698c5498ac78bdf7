//! The per-stream context: pick on request headers, learn on response headers, release on log.
//!
//! Envoy calls `on_log` once at the end of every stream (answered, reset or locally replied),
//! and so does wasmesh, so that is where in-flight goes down: exactly once, whatever happened.
//! A stream that ends without response headers (reset, timeout) is observed there as a failure.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;

use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::{Action, MapType};
use wasmesh_common::lb::{Outcome, Policy};
use wasmesh_filter_glue::clock::now_ns;

use crate::hash_input::request_hash;
use crate::metrics::Counter;
use crate::service::Service;

/// What a stream remembers about its pick.
struct Pick {
    address: SocketAddr,
    /// `address` as the headers carry it.
    text: Rc<str>,
    started_ns: u64,
    observed: bool,
}

/// One per HTTP stream.
pub struct LbStream {
    service: Option<Rc<RefCell<Service>>>,
    pick: Option<Pick>,
}

impl LbStream {
    /// A stream of the worker's service (`None` only if it was never configured: then requests
    /// pass untouched, which a host running with a refused configuration never does).
    pub fn new(service: Option<Rc<RefCell<Service>>>) -> Self {
        Self {
            service,
            pick: None,
        }
    }

    /// Feeds the outcome of the pick to the balancer and the counters, once.
    fn observe(&mut self, service: &mut Service, outcome: Outcome) {
        let Some(pick) = self.pick.as_mut().filter(|p| !p.observed) else {
            return;
        };
        pick.observed = true;
        let now = now_ns();
        let rtt = now.saturating_sub(pick.started_ns);
        let estimate = service.balancer.observe(pick.address, outcome, rtt, now);
        if let (Some(ns), Policy::PeakEwma(_)) = (estimate, service.balancer.policy()) {
            let ms = (ns / 1e6).round() as u64;
            service.metrics.set(Counter::EwmaMs, pick.address, ms);
        }
        if outcome == Outcome::Failure {
            service.metrics.count(Counter::Failures, pick.address);
        }
    }
}

impl Context for LbStream {}

impl HttpContext for LbStream {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        let Some(service) = self.service.clone() else {
            return Action::Continue;
        };
        let mut service = service.borrow_mut();
        let now = now_ns();
        service.refresh(now);
        let hash = service.config.policy.hash_key().and_then(request_hash);
        let Some(address) = service.balancer.pick(hash, now) else {
            service.metrics.count_no_endpoint();
            let name = service.config.service.clone();
            // A host may run our own response callbacks inside the local reply: no borrow held.
            drop(service);
            reply_no_endpoint(&name);
            return Action::Pause;
        };
        let text = service.texts.of(address);
        // Replace, never add: a client's own value must not reach the router.
        if let Err(status) = hostcalls::set_map_value(
            MapType::HttpRequestHeaders,
            &service.config.header,
            Some(&text),
        ) {
            log::warn!("lb: setting {}: {status:?}", service.config.header);
        }
        log::debug!(
            "lb: {} {} -> {text}",
            service.config.service,
            service.config.policy.name()
        );
        service.metrics.count(Counter::Requests, address);
        service.metrics.add(Counter::InFlight, address, 1);
        self.pick = Some(Pick {
            address,
            text,
            started_ns: now,
            observed: false,
        });
        Action::Continue
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        let (Some(service), Some(text)) = (
            self.service.clone(),
            self.pick.as_ref().map(|p| Rc::clone(&p.text)),
        ) else {
            return Action::Continue;
        };
        let mut service = service.borrow_mut();
        let status = hostcalls::get_map_value(MapType::HttpResponseHeaders, ":status")
            .ok()
            .flatten()
            .and_then(|s| s.parse::<u16>().ok());
        let outcome = match status {
            Some(code) if code < 500 => Outcome::Success,
            _ => Outcome::Failure,
        };
        self.observe(&mut service, outcome);
        if let Some(name) = &service.config.response_header {
            if let Err(status) =
                hostcalls::set_map_value(MapType::HttpResponseHeaders, name, Some(&text))
            {
                log::warn!("lb: setting response header {name}: {status:?}");
            }
        }
        Action::Continue
    }

    fn on_log(&mut self) {
        let Some(service) = self.service.clone() else {
            return;
        };
        let mut service = service.borrow_mut();
        self.observe(&mut service, Outcome::Failure);
        if let Some(pick) = self.pick.take() {
            service.balancer.release(pick.address);
            service.metrics.add(Counter::InFlight, pick.address, -1);
        }
    }
}

/// The local reply when the set is empty: 503 with a body that names the service.
fn reply_no_endpoint(service: &str) {
    let body = format!("no endpoint available for service {service}\n");
    let headers = vec![("content-type", "text/plain")];
    if let Err(status) = hostcalls::send_http_response(503, headers, Some(body.as_bytes())) {
        log::warn!("lb: sending the 503 local reply: {status:?}");
    }
}
