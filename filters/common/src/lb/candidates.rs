//! Which endpoints a pick may return, level by level: endpoints with a weight above 0 are
//! grouped by priority level ([`Levels::level_of`]: the endpoint's `priority`, split by zone when
//! a `local_zone` is configured), each level gets its share of the traffic from Envoy's load
//! model ([`crate::lb::priority`]), and its candidates are its endpoints not ejected by outlier
//! detection, or all of them while the level is in panic.
//!
//! Ejections are only advice: if they leave nothing healthy anywhere, every endpoint is a
//! candidate again (the model's total panic), so an outage of every endpoint still sends
//! traffic somewhere instead of answering 503 for it.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use crate::lb::priority::{LevelCount, LoadModel};
use wasmesh_contract::endpoint::Endpoint;

/// How endpoints are grouped into levels and how the levels share the traffic.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Levels {
    /// Overprovisioning factor and panic threshold.
    pub model: LoadModel,
    /// The proxy's own zone: endpoints elsewhere come after local ones of the same priority.
    pub local_zone: Option<String>,
}

impl Levels {
    /// The level of `endpoint` under this configuration's `local_zone` ([`level_of`]).
    pub fn level_of(&self, endpoint: &Endpoint) -> u32 {
        level_of(endpoint, self.local_zone.as_deref())
    }
}

/// The level of `endpoint`: its `priority`, or with a `local_zone`, `2 × priority` plus 1 when
/// its zone is known and not the local one (so local priority-0 endpoints are level 0, remote
/// priority-0 ones level 1, local priority-1 ones level 2…). An endpoint without a zone is not
/// demoted: nothing says it is far. The one definition of a level: `lb` draws levels with it
/// and `failover` orders a retry's endpoints with it, so a retry stays where `lb` would go.
pub fn level_of(endpoint: &Endpoint, local_zone: Option<&str>) -> u32 {
    match local_zone {
        None => endpoint.priority,
        Some(local) => {
            let remote = !endpoint.zone.is_empty() && endpoint.zone != local;
            endpoint
                .priority
                .saturating_mul(2)
                .saturating_add(u32::from(remote))
        }
    }
}

/// One level's share of the traffic and its candidates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Level {
    /// The level number ([`Levels::level_of`]); what the `priority` metric label shows.
    pub priority: u32,
    /// Percent of requests this level gets.
    pub load: u32,
    /// The level balances over all its endpoints, ejected ones included.
    pub panic: bool,
    /// Indices into the endpoint list of the level's candidates.
    pub candidates: Vec<usize>,
}

/// The levels of `endpoints` (best first) given the `ejected` addresses. Levels whose
/// endpoints all have weight 0 do not exist; a level can have load 0 (every endpoint
/// ejected while other levels take its traffic).
pub fn levels<'a>(
    endpoints: impl Iterator<Item = &'a Endpoint>,
    ejected: &[SocketAddr],
    rules: &Levels,
) -> Vec<Level> {
    // Per level: every usable endpoint, and the healthy ones.
    let mut groups: BTreeMap<u32, (Vec<usize>, Vec<usize>)> = BTreeMap::new();
    for (i, e) in endpoints.enumerate().filter(|(_, e)| e.weight > 0) {
        let (all, healthy) = groups.entry(rules.level_of(e)).or_default();
        all.push(i);
        if !ejected.contains(&e.address) {
            healthy.push(i);
        }
    }
    let counts: Vec<LevelCount> = groups
        .values()
        .map(|(all, healthy)| LevelCount {
            total: all.len(),
            healthy: healthy.len(),
        })
        .collect();
    let loads = rules.model.loads(&counts);
    groups
        .into_iter()
        .zip(loads)
        .map(|((priority, (all, healthy)), load)| Level {
            priority,
            load: load.load,
            panic: load.panic,
            candidates: if load.panic { all } else { healthy },
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests;
