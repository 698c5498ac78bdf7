//! The per-stream context: remember a retryable request, judge its response, retry elsewhere.
//!
//! Request headers: count the request in the budget; keep its headers if its method may be
//! retried and it has no body (this slice retries bodiless requests only). Response headers
//! (after `lb`'s): classify the outcome for the endpoint `lb` picked (read back from the pick
//! header), feed outlier detection, and on a retryable failure pause the response and send the
//! request again with `http_call` to a different healthy endpoint. The call's answer replaces
//! the response as a local reply, or is retried again up to `max_retries`.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::{Action, MapType};
use wasmesh_common::failover::classify::{classify, retryable};
use wasmesh_common::failover::Outcome;

use crate::clock::now_ms;
use crate::reply;
use crate::service::Service;

/// One per HTTP stream.
pub struct FailoverStream {
    service: Option<Rc<RefCell<Service>>>,
    /// The request's headers if it may be retried.
    request: Option<Vec<(String, String)>>,
    /// Endpoints tried so far, in order.
    tried: Vec<SocketAddr>,
    /// The endpoint of the retry in flight.
    current: Option<SocketAddr>,
}

impl FailoverStream {
    /// A stream of the worker's service (`None` if never configured: requests pass untouched).
    pub fn new(service: Option<Rc<RefCell<Service>>>) -> Self {
        Self {
            service,
            request: None,
            tried: Vec::new(),
            current: None,
        }
    }

    /// Sends one more try if allowed (retries left, budget, a healthy untried endpoint);
    /// whether a call is now in flight.
    fn retry(&mut self, service: &mut Service, outcome: Outcome, now: u64) -> bool {
        let Some(request) = &self.request else {
            return false;
        };
        let retries = self.tried.len().saturating_sub(1) as u32;
        if retries >= service.config.retry.max_retries {
            return false;
        }
        if !service.budget.try_withdraw(now) {
            service.metrics.budget_exhausted();
            log::debug!(
                "failover: {}: retry budget exhausted",
                service.config.service
            );
            return false;
        }
        let Some(target) = service.retry_target(&self.tried, now) else {
            log::debug!("failover: {}: no other endpoint", service.config.service);
            return false;
        };
        let value = target.to_string();
        let mut headers: Vec<(&str, &str)> = request
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        headers.push((service.config.header.as_str(), value.as_str()));
        let timeout = Duration::from_millis(service.config.retry.per_try_timeout_ms);
        match hostcalls::dispatch_http_call(&service.config.cluster, headers, None, vec![], timeout)
        {
            Ok(_token) => {
                service.metrics.retry(outcome.reason().unwrap_or("other"));
                log::debug!(
                    "failover: {}: {outcome} from {:?}, retrying on {target}",
                    service.config.service,
                    self.tried.last()
                );
                self.current = Some(target);
                true
            }
            Err(status) => {
                log::warn!(
                    "failover: http_call to cluster {}: {status:?}",
                    service.config.cluster
                );
                false
            }
        }
    }
}

impl Context for FailoverStream {
    fn on_http_call_response(&mut self, _token: u32, headers: usize, body_size: usize, _: usize) {
        let (Some(service), Some(target)) = (self.service.clone(), self.current.take()) else {
            return;
        };
        let (pairs, status) = wasmesh_filter_glue::call_response_head(headers);
        // No headers at all: the call failed without a response (Envoy's onFailure).
        let outcome = if pairs.is_empty() {
            Outcome::Reset
        } else {
            classify(status, None)
        };
        let now = now_ms();
        let mut svc = service.borrow_mut();
        svc.record(target, outcome, now);
        self.tried.push(target);
        if retryable(&svc.config.retry.retry_on, outcome) && self.retry(&mut svc, outcome, now) {
            return;
        }
        let Some(status) = status else {
            // Nothing better to give: let the original failed response through.
            drop(svc);
            if let Err(status) = hostcalls::resume_http_response() {
                log::warn!("failover: resuming the response: {status:?}");
            }
            return;
        };
        let body = wasmesh_filter_glue::call_response_body(body_size);
        let echo = svc.config.response_header.clone();
        drop(svc);
        let value = target.to_string();
        let extra: Vec<(&str, &str)> = echo.iter().map(|n| (n.as_str(), value.as_str())).collect();
        reply::send(u32::from(status), &pairs, &extra, &body);
    }
}

impl HttpContext for FailoverStream {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        let Some(service) = self.service.clone() else {
            return Action::Continue;
        };
        let mut service = service.borrow_mut();
        service.budget.deposit(now_ms());
        let method = hostcalls::get_map_value(MapType::HttpRequestHeaders, ":method")
            .ok()
            .flatten()
            .unwrap_or_default();
        if end_of_stream && service.config.retries_method(&method) {
            let headers = hostcalls::get_map(MapType::HttpRequestHeaders).unwrap_or_default();
            self.request = Some(reply::replayable(headers, &service.config.header));
        }
        Action::Continue
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        let Some(service) = self.service.clone() else {
            return Action::Continue;
        };
        let mut service = service.borrow_mut();
        let config = &service.config;
        let Some(endpoint) = picked(config.response_header.as_deref(), &config.header) else {
            return Action::Continue;
        };
        let status = hostcalls::get_map_value(MapType::HttpResponseHeaders, ":status")
            .ok()
            .flatten()
            .and_then(|s| s.parse::<u16>().ok());
        let details = property(&["response", "code_details"]);
        let outcome = classify(status, details.as_deref());
        let now = now_ms();
        service.record(endpoint, outcome, now);
        if self.request.is_none() || !retryable(&service.config.retry.retry_on, outcome) {
            return Action::Continue;
        }
        self.tried.push(endpoint);
        if self.retry(&mut service, outcome, now) {
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
