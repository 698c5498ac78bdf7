//! Per-endpoint counters, defined on first use (endpoints come and go with discovery) and
//! cached per VM so the request path costs one `increment_metric` per counter.
//!
//! Names: `lb_requests_total.<service>.<endpoint>`, `lb_failures_total.<service>.<endpoint>`
//! (5xx, resets, local replies without a response) and `lb_no_endpoint_total.<service>`; see
//! `wasmesh_common::lb::metric` for the endpoint label.

use std::collections::HashMap;
use std::net::SocketAddr;

use proxy_wasm::hostcalls;
use proxy_wasm::types::MetricType;
use wasmesh_common::lb::metric;

/// Which counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Counter {
    /// A request sent to the endpoint.
    Requests,
    /// A request to the endpoint that failed.
    Failures,
}

impl Counter {
    fn base(self) -> &'static str {
        match self {
            Counter::Requests => metric::REQUESTS,
            Counter::Failures => metric::FAILURES,
        }
    }
}

/// The metric ids of one service's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    service: String,
    ids: HashMap<(Counter, SocketAddr), Option<u32>>,
    no_endpoint: Option<Option<u32>>,
}

impl Metrics {
    /// Counters for `service`, none defined yet.
    pub fn new(service: &str) -> Self {
        Self {
            service: service.to_string(),
            ..Self::default()
        }
    }

    /// Adds one to `counter` of `endpoint`.
    pub fn count(&mut self, counter: Counter, endpoint: SocketAddr) {
        let service = &self.service;
        let id = *self
            .ids
            .entry((counter, endpoint))
            .or_insert_with(|| define(&metric::endpoint(counter.base(), service, endpoint)));
        increment(id);
    }

    /// Adds one to the service's "no endpoint available" counter.
    pub fn count_no_endpoint(&mut self) {
        let service = &self.service;
        let id = *self
            .no_endpoint
            .get_or_insert_with(|| define(&metric::service(metric::NO_ENDPOINT, service)));
        increment(id);
    }
}

/// Defines a counter; `None` (logged once, since the result is cached) if the host refuses.
fn define(name: &str) -> Option<u32> {
    hostcalls::define_metric(MetricType::Counter, name)
        .map_err(|status| log::error!("lb: defining metric {name}: {status:?}"))
        .ok()
}

fn increment(id: Option<u32>) {
    if let Some(id) = id {
        if let Err(status) = hostcalls::increment_metric(id, 1) {
            log::warn!("lb: incrementing metric {id}: {status:?}");
        }
    }
}
