//! One configured service on one worker: the retry state machine of every stream, and around
//! it outlier counters, metrics and the ejection gauges, shared (`Rc<RefCell>`) by the root
//! context and every stream of the worker.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::rc::Rc;

use wasmesh_common::failover::outlier::Detector;
use wasmesh_common::failover::retry::{Retries, SLOW_TICK_MS};
use wasmesh_common::failover::{FailoverConfig, Outcome};
use wasmesh_contract::endpoint::Endpoint;
use wasmesh_contract::health;

use crate::effects::Proxy;
use crate::metrics::Metrics;
use crate::shared;

/// Everything a stream needs to judge, eject and retry.
pub struct Service {
    /// Every stream's retries (pure logic).
    pub retries: Retries,
    /// What the retries act on.
    pub world: World,
}

/// The service outside its retry state machine: what [`Proxy`] acts on.
pub struct World {
    /// The validated configuration (shared with the state machine).
    pub config: Rc<FailoverConfig>,
    /// The metrics.
    pub metrics: Metrics,
    health_checked_ms: u64,
    detector: Detector,
    health_key: String,
    /// Endpoints whose `failover_ejected` gauge this worker set to 1, to set back to 0.
    gauged: BTreeSet<SocketAddr>,
}

impl Service {
    /// A service for `config`, its randomness seeded with `seed`.
    pub fn new(config: FailoverConfig, seed: u64) -> Self {
        let config = Rc::new(config);
        Self {
            retries: Retries::new(Rc::clone(&config), seed),
            world: World {
                health_checked_ms: 0,
                metrics: Metrics::new(&config.service),
                detector: Detector::new(config.thresholds),
                health_key: health::key(&config.service),
                gauged: BTreeSet::new(),
                config,
            },
        }
    }

    /// Runs `step` on the state machine with its effects, from the callback of context `home`
    /// (where the host is calling: a stream's or the root's).
    pub fn drive<R>(&mut self, home: u32, step: impl FnOnce(&mut Retries, &mut Proxy) -> R) -> R {
        let mut proxy = Proxy {
            world: &mut self.world,
            home,
        };
        step(&mut self.retries, &mut proxy)
    }
}

impl World {
    /// The endpoint set: the static list, or the shared one.
    pub fn endpoints(&self) -> Vec<Endpoint> {
        match &self.config.endpoints {
            Some(list) => list.clone(),
            None => shared::endpoints(&self.config.service),
        }
    }

    /// The shared health document (an empty one if absent or unreadable).
    pub fn health(&self) -> health::Health {
        shared::health(&self.health_key).0
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
