//! The service's metrics (names in `wasmesh_contract::discovery_metric`), defined once per VM.

use std::collections::HashMap;

use proxy_wasm::types::MetricType;
use wasmesh_contract::discovery_metric;
use wasmesh_filter_glue::metric as host_metric;

/// Prefix of the log lines of a metric the host refuses.
const FILTER: &str = "discovery";

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
            stale: host_metric::define(
                FILTER,
                MetricType::Gauge,
                &discovery_metric::service(discovery_metric::STALE, service),
            ),
            endpoints: host_metric::define(
                FILTER,
                MetricType::Gauge,
                &discovery_metric::service(discovery_metric::ENDPOINTS, service),
            ),
            updates: host_metric::define(
                FILTER,
                MetricType::Counter,
                &discovery_metric::service(discovery_metric::UPDATES, service),
            ),
            errors: HashMap::new(),
        };
        metrics.set_stale(false);
        metrics
    }

    /// Sets `discovery_stale`.
    pub fn set_stale(&self, stale: bool) {
        host_metric::record(FILTER, self.stale, u64::from(stale));
    }

    /// Sets `discovery_endpoints`.
    pub fn set_endpoints(&self, count: usize) {
        host_metric::record(FILTER, self.endpoints, count as u64);
    }

    /// Counts a written set.
    pub fn updated(&self) {
        host_metric::add(FILTER, self.updates, 1);
    }

    /// Counts a failed poll by the `reason` label of `message`.
    pub fn error(&mut self, message: &str) {
        let reason = discovery_metric::reason(message);
        let service = &self.service;
        let id = *self.errors.entry(reason).or_insert_with(|| {
            host_metric::define(
                FILTER,
                MetricType::Counter,
                &discovery_metric::error(service, reason),
            )
        });
        host_metric::add(FILTER, id, 1);
    }
}
