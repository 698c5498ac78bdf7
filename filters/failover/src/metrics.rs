//! The filter's metrics (names from `wasmesh_common::failover::metric`), defined on first use
//! and cached per VM by name.

use std::net::SocketAddr;

use proxy_wasm::types::MetricType;
use wasmesh_common::failover::metric;
use wasmesh_filter_glue::metric::{self as host_metric, Series};

/// Prefix of the log lines of a metric the host refuses.
const FILTER: &str = "failover";

/// Metric ids of one service.
#[derive(Debug)]
pub struct Metrics {
    service: String,
    ids: Series,
}

impl Metrics {
    /// Metrics of `service`, none defined yet.
    pub fn new(service: &str) -> Self {
        Self {
            service: service.to_string(),
            ids: Series::new(FILTER),
        }
    }

    /// A retry sent because of `reason`.
    pub fn retry(&mut self, reason: &str) {
        let name = metric::retries(&self.service, reason);
        self.increment(name, MetricType::Counter);
    }

    /// A retryable failure left unretried because of its body (`reason`).
    pub fn not_retried(&mut self, reason: &str) {
        let name = metric::not_retried(&self.service, reason);
        self.increment(name, MetricType::Counter);
    }

    /// A timeout that fired (`request` or `per-try`).
    pub fn timeout(&mut self, which: &str) {
        let name = metric::timeouts(&self.service, which);
        self.increment(name, MetricType::Counter);
    }

    /// A retry the budget refused.
    pub fn budget_exhausted(&mut self) {
        let name = metric::budget_exhausted(&self.service);
        self.increment(name, MetricType::Counter);
    }

    /// `endpoint` was ejected: counter up, gauge to 1.
    pub fn ejected(&mut self, endpoint: SocketAddr) {
        let name = metric::endpoint(metric::EJECTIONS, &self.service, endpoint);
        self.increment(name, MetricType::Counter);
        self.set_ejected(endpoint, true);
    }

    /// Sets the `failover_ejected` gauge of `endpoint`.
    pub fn set_ejected(&mut self, endpoint: SocketAddr, ejected: bool) {
        let name = metric::endpoint(metric::EJECTED, &self.service, endpoint);
        let id = self.ids.id(MetricType::Gauge, name);
        host_metric::record(FILTER, id, u64::from(ejected));
    }

    fn increment(&mut self, name: String, kind: MetricType) {
        host_metric::add(FILTER, self.ids.id(kind, name), 1);
    }
}
