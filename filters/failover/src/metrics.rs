//! The filter's metrics (names from `wasmesh_common::failover::metric`), defined on first use
//! and cached per VM by name.

use std::collections::HashMap;
use std::net::SocketAddr;

use proxy_wasm::hostcalls;
use proxy_wasm::types::MetricType;
use wasmesh_common::failover::metric;

/// Metric ids of one service.
#[derive(Debug, Default)]
pub struct Metrics {
    service: String,
    ids: HashMap<String, Option<u32>>,
}

impl Metrics {
    /// Metrics of `service`, none defined yet.
    pub fn new(service: &str) -> Self {
        Self {
            service: service.to_string(),
            ids: HashMap::new(),
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
        if let Some(id) = self.id(name, MetricType::Gauge) {
            if let Err(status) = hostcalls::record_metric(id, u64::from(ejected)) {
                log::warn!("failover: setting metric {id}: {status:?}");
            }
        }
    }

    fn increment(&mut self, name: String, kind: MetricType) {
        if let Some(id) = self.id(name, kind) {
            if let Err(status) = hostcalls::increment_metric(id, 1) {
                log::warn!("failover: incrementing metric {id}: {status:?}");
            }
        }
    }

    fn id(&mut self, name: String, kind: MetricType) -> Option<u32> {
        if let Some(id) = self.ids.get(&name) {
            return *id;
        }
        let id = hostcalls::define_metric(kind, &name)
            .map_err(|status| log::error!("failover: defining metric {name}: {status:?}"))
            .ok();
        self.ids.insert(name, id);
        id
    }
}
