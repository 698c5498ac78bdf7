//! One scrape of an admin's Prometheus exposition, reduced to what `wasmesh stat` shows: per
//! route the response counts and latency buckets, per endpoint the `lb` counters.
//!
//! Names and labels are the ones the metrics and lb filters define (README, Monitoring); they
//! read the same from wasmesh's `/metrics` and Envoy's `/stats/prometheus`.

use std::collections::BTreeMap;
use std::time::Instant;

use wasmesh_contract::exposition::{self, Sample};

use super::histogram::Buckets;
use super::By;

/// What a route row is keyed by; a label the grouping drops is empty.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RouteKey {
    /// `inbound` or `outbound` (the metrics filter's `direction`).
    pub direction: String,
    /// The request's authority.
    pub authority: String,
    /// The route name.
    pub route: String,
}

/// A route's totals since the proxy started.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RouteTotals {
    /// `request_total`: requests that started.
    pub requests: f64,
    /// `response_total{classification="success"}`.
    pub success: f64,
    /// `response_total` with any other classification (failures, no response).
    pub failure: f64,
    /// `response_latency_ms` buckets.
    pub latency: Buckets,
    /// `request_in_flight` now.
    pub in_flight: f64,
}

/// A service's endpoint, as the lb filter labels it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct EndpointKey {
    /// The lb filter's `service`.
    pub service: String,
    /// `ip:port`.
    pub endpoint: String,
}

/// An endpoint's lb figures since the proxy started.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EndpointTotals {
    /// `lb_requests_total`.
    pub requests: f64,
    /// `lb_failures_total`.
    pub failures: f64,
    /// `lb_in_flight` now.
    pub in_flight: f64,
    /// `lb_ewma_ms` now, when the policy publishes it.
    pub ewma_ms: Option<f64>,
}

/// One scrape.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// When the exposition arrived (rates divide by the time between two snapshots).
    pub at: Instant,
    /// Route rows, grouped as asked.
    pub routes: BTreeMap<RouteKey, RouteTotals>,
    /// Endpoint rows.
    pub endpoints: BTreeMap<EndpointKey, EndpointTotals>,
}

impl Snapshot {
    /// Reads `text` (Prometheus text format), grouping route figures `by`.
    pub fn parse(text: &str, by: By, at: Instant) -> Snapshot {
        Snapshot::of_samples(&exposition::samples(text), by, at)
    }

    /// The same from samples already parsed (the live view groups one scrape two ways).
    pub fn of_samples(samples: &[Sample], by: By, at: Instant) -> Snapshot {
        let mut snapshot = Snapshot {
            at,
            routes: BTreeMap::new(),
            endpoints: BTreeMap::new(),
        };
        for sample in samples {
            snapshot.add(sample, by);
        }
        snapshot
    }

    fn add(&mut self, sample: &Sample, by: By) {
        let v = sample.value;
        match sample.name.as_str() {
            "request_total" => self.route(sample, by).requests += v,
            "response_total" if label(sample, "classification") == "success" => {
                self.route(sample, by).success += v
            }
            "response_total" => self.route(sample, by).failure += v,
            "response_latency_ms_bucket" => {
                if let Some(le) = parse_le(label(sample, "le")) {
                    self.route(sample, by).latency.add(le, v);
                }
            }
            "request_in_flight" => self.route(sample, by).in_flight += v,
            "lb_requests_total" => self.endpoint(sample).requests += v,
            "lb_failures_total" => self.endpoint(sample).failures += v,
            "lb_in_flight" => self.endpoint(sample).in_flight += v,
            "lb_ewma_ms" => *self.endpoint(sample).ewma_ms.get_or_insert(0.0) += v,
            _ => {}
        }
    }

    fn route(&mut self, sample: &Sample, by: By) -> &mut RouteTotals {
        let keep = |wanted: bool, name: &str| {
            if wanted {
                label(sample, name).to_string()
            } else {
                String::new()
            }
        };
        let key = RouteKey {
            direction: label(sample, "direction").to_string(),
            authority: keep(by != By::Route, "authority"),
            route: keep(by != By::Authority, "route"),
        };
        self.routes.entry(key).or_default()
    }

    fn endpoint(&mut self, sample: &Sample) -> &mut EndpointTotals {
        let key = EndpointKey {
            service: label(sample, "service").to_string(),
            endpoint: label(sample, "endpoint").to_string(),
        };
        self.endpoints.entry(key).or_default()
    }
}

fn label<'a>(sample: &'a Sample, name: &str) -> &'a str {
    sample.labels.get(name).map_or("", String::as_str)
}

/// A bucket bound: a number, or `+Inf`.
fn parse_le(text: &str) -> Option<f64> {
    match text {
        "+Inf" | "Inf" | "inf" => Some(f64::INFINITY),
        _ => text.parse().ok(),
    }
}
