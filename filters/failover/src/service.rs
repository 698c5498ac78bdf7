//! One configured service on one worker: outlier counters, retry budget, randomness,
//! metrics, and every stream's retry state and times, shared (`Rc<RefCell>`) by the root
//! context and every stream of the worker.

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::time::Duration;

use proxy_wasm::hostcalls;

use wasmesh_common::endpoint::Endpoint;
use wasmesh_common::failover::budget::Budget;
use wasmesh_common::failover::health;
use wasmesh_common::failover::outlier::Detector;
use wasmesh_common::failover::pick::pick_other;
use wasmesh_common::failover::schedule::Schedule;
use wasmesh_common::failover::{FailoverConfig, Outcome};
use wasmesh_common::lb::random::SplitMix64;

use crate::flight::Flight;
use crate::metrics::Metrics;
use crate::shared;

/// Tick period while nothing is close: ended ejections are noticed for the gauge, far
/// deadlines are looked at.
pub const SLOW_TICK_MS: u64 = 250;
/// Tick period while a retry backs off or a deadline is less than a slow tick away: the
/// precision of backoffs and timeouts.
pub const FAST_TICK_MS: u64 = 5;

/// Everything a stream needs to judge, eject and retry.
pub struct Service {
    /// The validated configuration.
    pub config: FailoverConfig,
    /// This worker's retry budget.
    pub budget: Budget,
    /// The metrics.
    pub metrics: Metrics,
    /// Each live stream's retry state, by context id.
    pub flights: HashMap<u32, Flight>,
    /// Retry calls in flight: token → the stream's context id (the call's response may come
    /// to the root context, which dispatched it after a backoff).
    pub calls: HashMap<u32, u32>,
    /// Deadlines and backoffs, looked at by the root's tick.
    pub schedule: Schedule,
    /// The root context's id, where callbacks without a stream run.
    pub root_id: u32,
    tick_ms: u64,
    health_checked_ms: u64,
    detector: Detector,
    rng: SplitMix64,
    health_key: String,
    /// Endpoints whose `failover_ejected` gauge this worker set to 1, to set back to 0.
    gauged: BTreeSet<SocketAddr>,
}

impl Service {
    /// A service for `config` in root context `root_id`, its randomness seeded with `seed`.
    pub fn new(config: FailoverConfig, root_id: u32, seed: u64) -> Self {
        Self {
            flights: HashMap::new(),
            calls: HashMap::new(),
            schedule: Schedule::default(),
            root_id,
            tick_ms: 0,
            health_checked_ms: 0,
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

    /// A different, healthy endpoint for a retry: not in `tried`, not ejected at `now_ms`, of
    /// the best level (`local_zone` first, as `lb`).
    pub fn retry_target(&mut self, tried: &[SocketAddr], now_ms: u64) -> Option<SocketAddr> {
        let (health, _) = shared::health(&self.health_key);
        let endpoints = self.endpoints();
        let zone = self.config.local_zone.as_deref();
        let avoid = |a: SocketAddr| tried.contains(&a) || health.is_ejected(a, now_ms);
        // Everything else ejected: any untried endpoint beats answering with the failure.
        pick_other(&endpoints, zone, avoid, &mut self.rng)
            .or_else(|| pick_other(&endpoints, zone, |a| tried.contains(&a), &mut self.rng))
    }

    /// The backoff before retry number `retry` (jittered).
    pub fn backoff_ms(&mut self, retry: u32) -> u64 {
        self.config.retry.backoff.delay_ms(retry, &mut self.rng)
    }

    /// Sets the tick period the schedule needs now, if it changed (setting it restarts the
    /// host's timer, so it is not set again with the same value).
    pub fn retune_tick(&mut self, now_ms: u64) {
        let period = self
            .schedule
            .tick_period_ms(now_ms, SLOW_TICK_MS, FAST_TICK_MS);
        if period == self.tick_ms {
            return;
        }
        match hostcalls::set_tick_period(Duration::from_millis(period)) {
            Ok(()) => self.tick_ms = period,
            Err(status) => log::warn!("failover: no tick ({status:?}): no timeouts or backoff"),
        }
    }

    /// On the root's tick, at most once per slow tick: forgives ejections of endpoints that
    /// stayed in service, and sets the gauges of ejections that ended back to 0.
    pub fn refresh_health(&mut self, now_ms: u64) {
        if now_ms < self.health_checked_ms + SLOW_TICK_MS {
            return;
        }
        self.health_checked_ms = now_ms;
        shared::decay(&self.health_key, now_ms, self.config.ejection.base_ms);
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
