//! Outlier detection's counting half: consecutive 5xx and consecutive gateway failures per
//! endpoint, as Envoy's `consecutive_5xx` / `consecutive_gateway_failure`. A success resets both.
//!
//! Counts are per worker (per VM): each worker judges what it sees, and the first to reach a
//! threshold writes the ejection to the shared [`super::health::Health`] document, which every
//! worker and the `lb` filter then honour. With N workers an endpoint may take up to N ×
//! threshold failures before ejection in the worst case (Envoy aggregates on its main thread).

use std::net::SocketAddr;

use rustc_hash::FxHashMap;

use super::classify::Outcome;

/// The thresholds (0 disables one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// Consecutive 5xx (and local failures) before ejection; Envoy's default 5.
    pub consecutive_5xx: u32,
    /// Consecutive 502/503/504/connect failures/resets before ejection; default 5.
    pub consecutive_gateway_failure: u32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            consecutive_5xx: 5,
            consecutive_gateway_failure: 5,
        }
    }
}

/// Why an endpoint crossed a threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// `consecutive_5xx` reached.
    Consecutive5xx,
    /// `consecutive_gateway_failure` reached.
    ConsecutiveGatewayFailure,
}

#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    five_xx: u32,
    gateway: u32,
}

/// Consecutive-failure counters of every endpoint this worker has talked to.
#[derive(Debug, Clone, Default)]
pub struct Detector {
    thresholds: Thresholds,
    /// Fx-hashed: endpoints the configuration or discovery named, one lookup per response.
    counts: FxHashMap<SocketAddr, Counts>,
}

impl Detector {
    /// A detector with `thresholds`, nothing counted.
    pub fn new(thresholds: Thresholds) -> Self {
        Self {
            thresholds,
            counts: FxHashMap::default(),
        }
    }

    /// Records `outcome` of a try to `endpoint`; `Some` when that makes a threshold reached
    /// (the counters restart then, so one streak asks for one ejection).
    pub fn record(&mut self, endpoint: SocketAddr, outcome: Outcome) -> Option<Trigger> {
        if outcome == Outcome::Local {
            return None; // the endpoint was never asked: no news about it either way
        }
        if !outcome.is_5xx() {
            self.counts.remove(&endpoint);
            return None;
        }
        let counts = self.counts.entry(endpoint).or_default();
        counts.five_xx += 1;
        if outcome.is_gateway_failure() {
            counts.gateway += 1;
        } else {
            counts.gateway = 0;
        }
        let reached = |count: u32, threshold: u32| threshold > 0 && count >= threshold;
        let trigger = if reached(counts.gateway, self.thresholds.consecutive_gateway_failure) {
            Some(Trigger::ConsecutiveGatewayFailure)
        } else if reached(counts.five_xx, self.thresholds.consecutive_5xx) {
            Some(Trigger::Consecutive5xx)
        } else {
            None
        };
        if trigger.is_some() {
            self.counts.remove(&endpoint);
        }
        trigger
    }

    /// The current 5xx streak of `endpoint` (for tests and logs).
    pub fn streak(&self, endpoint: SocketAddr) -> u32 {
        self.counts.get(&endpoint).map_or(0, |c| c.five_xx)
    }
}

#[cfg(test)]
mod tests;
