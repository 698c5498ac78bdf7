//! The shared health document: which endpoints of a service are ejected, until when, and how
//! often they were ejected. Stored at [`key`] (`wasmesh.v1.health.<service>`) as JSON and
//! updated by compare-and-swap, so every worker's `failover` and `lb` see one view:
//!
//! ```json
//! {"version": 4, "endpoints": {"127.0.0.1:8082": {"ejected_until_ms": 1700000030000, "ejections": 1}}}
//! ```
//! Times are unix milliseconds of the host clock (both filters read the same clock). An entry
//! stays after its ejection ends, so the next ejection of a flapping endpoint lasts longer
//! (Envoy's `base_ejection_time × ejections`, capped at `max_ejection_time`); each full
//! `base_ejection_time` in service afterwards takes one off `ejections` ([`Health::decay`]).

use std::collections::BTreeMap;
use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use crate::keys::PREFIX;

/// `wasmesh.v1.health.<service>`: where `failover` writes ejections and `lb` reads them.
pub fn key(service: &str) -> String {
    format!("{PREFIX}.health.{service}")
}

/// How ejections are sized and bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EjectionPolicy {
    /// First ejection's length; the n-th lasts n times this.
    pub base_ms: u64,
    /// Longest ejection.
    pub max_ms: u64,
    /// At most this share of the set ejected at once; at least one endpoint may always be
    /// ejected (as Envoy), but never the last one left.
    pub max_percent: u32,
}

impl Default for EjectionPolicy {
    /// Envoy's defaults: 30 s base, 300 s max, 10 %.
    fn default() -> Self {
        Self {
            base_ms: 30_000,
            max_ms: 300_000,
            max_percent: 10,
        }
    }
}

/// One endpoint's record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointHealth {
    /// Ejected while the clock is below this.
    pub ejected_until_ms: u64,
    /// How many times it was ejected.
    pub ejections: u32,
}

/// A service's health document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// Bumped on every change.
    #[serde(default)]
    pub version: u64,
    /// Records by address.
    #[serde(default)]
    pub endpoints: BTreeMap<SocketAddr, EndpointHealth>,
}

/// Why an ejection was not written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Already ejected (another worker was first).
    AlreadyEjected,
    /// Ejecting it would exceed `max_percent`, or leave no endpoint.
    MaxEjected,
}

impl Health {
    /// Reads a stored document.
    pub fn decode(bytes: &[u8]) -> Result<Self, String> {
        serde_json::from_slice(bytes).map_err(|e| e.to_string())
    }

    /// The stored form.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a health document always serialises")
    }

    /// Whether `address` is ejected at `now_ms`.
    pub fn is_ejected(&self, address: SocketAddr, now_ms: u64) -> bool {
        self.endpoints
            .get(&address)
            .is_some_and(|h| now_ms < h.ejected_until_ms)
    }

    /// The endpoints ejected at `now_ms`.
    pub fn ejected(&self, now_ms: u64) -> impl Iterator<Item = SocketAddr> + '_ {
        self.endpoints
            .iter()
            .filter(move |(_, h)| now_ms < h.ejected_until_ms)
            .map(|(a, _)| *a)
    }

    /// The earliest end of an ejection still running at `now_ms`: when a reader must look again.
    pub fn next_return_ms(&self, now_ms: u64) -> Option<u64> {
        self.endpoints
            .values()
            .map(|h| h.ejected_until_ms)
            .filter(|&t| t > now_ms)
            .min()
    }

    /// Ejects `address` at `now_ms` from a set of `total` endpoints; returns the ejection's
    /// length in ms. The caller writes the document back with CAS and retries on a conflict.
    pub fn eject(
        &mut self,
        address: SocketAddr,
        now_ms: u64,
        total: usize,
        policy: &EjectionPolicy,
    ) -> Result<u64, Refused> {
        if self.is_ejected(address, now_ms) {
            return Err(Refused::AlreadyEjected);
        }
        let ejected = self.ejected(now_ms).count();
        if ejected + 1 > max_ejected(total, policy.max_percent) {
            return Err(Refused::MaxEjected);
        }
        let entry = self.endpoints.entry(address).or_insert(EndpointHealth {
            ejected_until_ms: 0,
            ejections: 0,
        });
        entry.ejections = entry.ejections.saturating_add(1);
        let length = policy
            .base_ms
            .saturating_mul(u64::from(entry.ejections))
            .min(policy.max_ms.max(policy.base_ms));
        entry.ejected_until_ms = now_ms.saturating_add(length);
        self.version += 1;
        Ok(length)
    }

    /// Forgives past ejections as Envoy does: each full `base_ms` an endpoint stays in service
    /// after its ejection ended takes one off its count, so the next ejection is shorter again;
    /// a record at zero is dropped. Whether anything changed (the caller then writes the
    /// document back with CAS).
    pub fn decay(&mut self, now_ms: u64, base_ms: u64) -> bool {
        let mut changed = false;
        for entry in self.endpoints.values_mut() {
            if entry.ejections == 0 || now_ms < entry.ejected_until_ms || base_ms == 0 {
                continue;
            }
            let healthy = (now_ms - entry.ejected_until_ms) / base_ms;
            let forgiven = healthy.min(u64::from(entry.ejections));
            if forgiven == 0 {
                continue;
            }
            entry.ejections -= forgiven as u32;
            // Still in the past: the clock of the next forgiveness, not an ejection.
            entry.ejected_until_ms += forgiven * base_ms;
            changed = true;
        }
        self.endpoints.retain(|_, h| h.ejections > 0);
        if changed {
            self.version += 1;
        }
        changed
    }
}

/// How many of `total` endpoints may be ejected at once: `max_percent` of them, at least one,
/// never all.
pub fn max_ejected(total: usize, max_percent: u32) -> usize {
    let share = total * max_percent.min(100) as usize / 100;
    share.max(1).min(total.saturating_sub(1))
}

#[cfg(test)]
mod tests;
