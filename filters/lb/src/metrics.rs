//! Per-endpoint counters, defined on first use (endpoints come and go with discovery) and
//! cached per VM so the request path costs one `increment_metric` per counter.
//!
//! Names (labelled as `wasmesh_contract::metric_name` says): counters
//! `lb_requests_total;service=<service>;endpoint=<ip:port>`, `lb_failures_total;…` (5xx, resets,
//! no response) and `lb_no_endpoint_total;service=<service>`; gauges `lb_in_flight;…` and,
//! under `peak_ewma`, `lb_ewma_ms;…` (the latency estimate, set when a response updates it);
//! per priority level, gauges `lb_priority_load;service=<service>;priority=<level>` (percent) and
//! `lb_panic;…` (1 while the level balances over its ejected endpoints too).

use std::collections::HashMap;
use std::net::SocketAddr;

use proxy_wasm::types::MetricType;
use rustc_hash::FxHashMap;
use wasmesh_common::lb::{metric, LevelView};
use wasmesh_filter_glue::metric as host_metric;

/// Prefix of the log lines of a metric the host refuses.
const FILTER: &str = "lb";

/// Which per-endpoint metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Counter {
    /// Counter: a request sent to the endpoint.
    Requests,
    /// Counter: a request to the endpoint that failed.
    Failures,
    /// Gauge: requests in flight to the endpoint (+1 on pick, -1 when the stream ends).
    InFlight,
    /// Gauge: the peak-EWMA estimate of the endpoint, in ms (set, not incremented).
    EwmaMs,
}

impl Counter {
    fn base(self) -> &'static str {
        match self {
            Counter::Requests => metric::REQUESTS,
            Counter::Failures => metric::FAILURES,
            Counter::InFlight => metric::IN_FLIGHT,
            Counter::EwmaMs => metric::EWMA_MS,
        }
    }

    fn kind(self) -> MetricType {
        match self {
            Counter::InFlight | Counter::EwmaMs => MetricType::Gauge,
            _ => MetricType::Counter,
        }
    }
}

/// The metric ids of one service's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    service: String,
    /// Fx-hashed: looked up three times per request, keyed by endpoints no client chose.
    ids: FxHashMap<(Counter, SocketAddr), Option<u32>>,
    no_endpoint: Option<Option<u32>>,
    /// Gauge ids per level: (load, panic).
    levels: HashMap<u32, (Option<u32>, Option<u32>)>,
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
        self.add(counter, endpoint, 1);
    }

    /// Adds `delta` (negative only for a gauge) to `counter` of `endpoint`.
    pub fn add(&mut self, counter: Counter, endpoint: SocketAddr, delta: i64) {
        host_metric::add(FILTER, self.id(counter, endpoint), delta);
    }

    /// Sets the gauge `counter` of `endpoint` to `value`.
    pub fn set(&mut self, counter: Counter, endpoint: SocketAddr, value: u64) {
        host_metric::record(FILTER, self.id(counter, endpoint), value);
    }

    /// The id of `counter` for `endpoint`, defined on first use.
    fn id(&mut self, counter: Counter, endpoint: SocketAddr) -> Option<u32> {
        let service = &self.service;
        *self.ids.entry((counter, endpoint)).or_insert_with(|| {
            host_metric::define(
                FILTER,
                counter.kind(),
                &metric::endpoint(counter.base(), service, endpoint),
            )
        })
    }

    /// Adds one to the service's "no endpoint available" counter.
    pub fn count_no_endpoint(&mut self) {
        let service = &self.service;
        let id = *self.no_endpoint.get_or_insert_with(|| {
            host_metric::define(
                FILTER,
                MetricType::Counter,
                &metric::service(metric::NO_ENDPOINT, service),
            )
        });
        host_metric::add(FILTER, id, 1);
    }
}

impl Metrics {
    /// Sets the level gauges to `levels`; a level seen before and gone now reads 0 (load) and
    /// 0 (panic), so a dashboard does not keep showing a stale share.
    pub fn publish_levels(&mut self, levels: &[LevelView]) {
        for (priority, ids) in self.levels.iter() {
            if !levels.iter().any(|l| l.priority == *priority) {
                host_metric::record(FILTER, ids.0, 0);
                host_metric::record(FILTER, ids.1, 0);
            }
        }
        for level in levels {
            let service = &self.service;
            let ids = *self.levels.entry(level.priority).or_insert_with(|| {
                let name = |base| metric::level(base, service, level.priority);
                (
                    host_metric::define(FILTER, MetricType::Gauge, &name(metric::PRIORITY_LOAD)),
                    host_metric::define(FILTER, MetricType::Gauge, &name(metric::PANIC)),
                )
            });
            host_metric::record(FILTER, ids.0, u64::from(level.load));
            host_metric::record(FILTER, ids.1, u64::from(level.panic));
        }
    }
}
