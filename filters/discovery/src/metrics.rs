//! The service's metrics (names in `wasmesh_common::discovery::metric`), defined once per VM.

use std::collections::HashMap;

use proxy_wasm::hostcalls;
use proxy_wasm::types::MetricType;
use wasmesh_common::discovery::metric;

/// Metric ids of one service.
pub struct Metrics {
    service: String,
    stale: Option<u32>,
    endpoints: Option<u32>,
    updates: Option<u32>,
    errors: HashMap<&'static str, Option<u32>>,
}

impl Metrics {
    /// Defines `service`'s gauges and counter, the stale gauge at 0 so it is visible at once.
    pub fn new(service: &str) -> Self {
        let metrics = Self {
            service: service.to_string(),
            stale: define(MetricType::Gauge, &metric::service(metric::STALE, service)),
            endpoints: define(
                MetricType::Gauge,
                &metric::service(metric::ENDPOINTS, service),
            ),
            updates: define(
                MetricType::Counter,
                &metric::service(metric::UPDATES, service),
            ),
            errors: HashMap::new(),
        };
        metrics.set_stale(false);
        metrics
    }

    /// Sets `discovery_stale`.
    pub fn set_stale(&self, stale: bool) {
        record(self.stale, u64::from(stale));
    }

    /// Sets `discovery_endpoints`.
    pub fn set_endpoints(&self, count: usize) {
        record(self.endpoints, count as u64);
    }

    /// Counts a written set.
    pub fn updated(&self) {
        increment(self.updates);
    }

    /// Counts a failed poll by the `reason` label of `message`.
    pub fn error(&mut self, message: &str) {
        let reason = metric::reason(message);
        let service = &self.service;
        let id = *self
            .errors
            .entry(reason)
            .or_insert_with(|| define(MetricType::Counter, &metric::error(service, reason)));
        increment(id);
    }
}

fn define(kind: MetricType, name: &str) -> Option<u32> {
    hostcalls::define_metric(kind, name)
        .map_err(|status| log::error!("discovery: defining metric {name}: {status:?}"))
        .ok()
}

fn record(id: Option<u32>, value: u64) {
    if let Some(id) = id {
        if let Err(status) = hostcalls::record_metric(id, value) {
            log::warn!("discovery: setting metric {id}: {status:?}");
        }
    }
}

fn increment(id: Option<u32>) {
    if let Some(id) = id {
        if let Err(status) = hostcalls::increment_metric(id, 1) {
            log::warn!("discovery: incrementing metric {id}: {status:?}");
        }
    }
}
