//! One configured service on one worker: outlier counters, retry budget, randomness and
//! metrics, shared (`Rc<RefCell>`) by the root context and every stream of the worker.

use std::collections::BTreeSet;
use std::net::SocketAddr;

use wasmesh_common::endpoint::Endpoint;
use wasmesh_common::failover::budget::Budget;
use wasmesh_common::failover::health;
use wasmesh_common::failover::outlier::Detector;
use wasmesh_common::failover::pick::pick_other;
use wasmesh_common::failover::{FailoverConfig, Outcome};
use wasmesh_common::lb::random::SplitMix64;

use crate::metrics::Metrics;
use crate::shared;

/// Everything a stream needs to judge, eject and retry.
pub struct Service {
    /// The validated configuration.
    pub config: FailoverConfig,
    /// This worker's retry budget.
    pub budget: Budget,
    /// The metrics.
    pub metrics: Metrics,
    detector: Detector,
    rng: SplitMix64,
    health_key: String,
    /// Endpoints whose `failover_ejected` gauge this worker set to 1, to set back to 0.
    gauged: BTreeSet<SocketAddr>,
}

impl Service {
    /// A service for `config`, its randomness seeded with `seed`.
    pub fn new(config: FailoverConfig, seed: u64) -> Self {
        Self {
            budget: Budget::new(config.retry.budget),
            metrics: Metrics::new(&config.service),
            detector: Detector::new(config.thresholds),
            rng: SplitMix64::new(seed),
            health_key: health::key(&config.service),
            gauged: BTreeSet::new(),
            config,
        }
    }

    /// The endpoint set: the static list, or the shared one.
    pub fn endpoints(&self) -> Vec<Endpoint> {
        match &self.config.endpoints {
            Some(list) => list.clone(),
            None => shared::endpoints(&self.config.service),
        }
    }

    /// Records how a try to `endpoint` went; ejects it when a threshold is reached.
    pub fn record(&mut self, endpoint: SocketAddr, outcome: Outcome, now_ms: u64) {
        let Some(trigger) = self.detector.record(endpoint, outcome) else {
            return;
        };
        let total = self.endpoints().len();
        let policy = self.config.ejection;
        if let Some(length) = shared::eject(&self.health_key, endpoint, now_ms, total, &policy) {
            log::info!(
                "failover: {}: ejected {endpoint} for {length} ms ({trigger:?}, last {outcome})",
                self.config.service
            );
            self.metrics.ejected(endpoint);
            self.gauged.insert(endpoint);
        }
    }

    /// A different, healthy endpoint for a retry: not in `tried`, not ejected at `now_ms`.
    pub fn retry_target(&mut self, tried: &[SocketAddr], now_ms: u64) -> Option<SocketAddr> {
        let (health, _) = shared::health(&self.health_key);
        let endpoints = self.endpoints();
        let avoid = |a: SocketAddr| tried.contains(&a) || health.is_ejected(a, now_ms);
        // Everything else ejected: any untried endpoint beats answering with the failure.
        pick_other(&endpoints, avoid, &mut self.rng)
            .or_else(|| pick_other(&endpoints, |a| tried.contains(&a), &mut self.rng))
    }

    /// Sets the gauges of ejections that ended back to 0 (called on the root's tick).
    pub fn tick(&mut self, now_ms: u64) {
        if self.gauged.is_empty() {
            return;
        }
        let (health, _) = shared::health(&self.health_key);
        let returned: Vec<SocketAddr> = self
            .gauged
            .iter()
            .copied()
            .filter(|a| !health.is_ejected(*a, now_ms))
            .collect();
        for endpoint in returned {
            log::info!(
                "failover: {}: {endpoint} back in service",
                self.config.service
            );
            self.metrics.set_ejected(endpoint, false);
            self.gauged.remove(&endpoint);
        }
    }
}
