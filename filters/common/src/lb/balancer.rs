//! One service's balancer: the endpoint set, per-endpoint load (in-flight, latency estimate)
//! and the policy's own state. One per VM (per worker), like Envoy's per-worker balancers: no
//! locks, and load is what this worker sees.
//!
//! The filter calls [`Balancer::pick`] on request headers, [`Balancer::observe`] when the
//! response (or its failure) is known, and [`Balancer::release`] exactly once when the stream
//! ends. Replacing the set with [`Balancer::set_endpoints`] keeps the load of endpoints that
//! stay (matched by address), so a discovery update does not reset what was learnt.

use std::net::SocketAddr;

use crate::lb::candidates::{self, Levels};
use crate::lb::config::Policy;
use crate::lb::maglev::{self, Maglev};
use crate::lb::p2c;
use crate::lb::peak_ewma::{EwmaConfig, PeakEwma};
use crate::lb::priority::level_for;
use crate::lb::random::{Rng, SplitMix64};
use crate::lb::ring_hash::Ring;
use crate::lb::round_robin::RoundRobin;
use crate::lb::weighted::SmoothWeighted;
use wasmesh_contract::endpoint::Endpoint;

/// How a stream ended, for the latency estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The endpoint answered with a non-5xx status.
    Success,
    /// A 5xx, a reset or no response: counted at least as slow as the default RTT, so an
    /// endpoint that fails fast does not look fast and attract traffic.
    Failure,
}

#[derive(Debug, Clone)]
struct Member {
    endpoint: Endpoint,
    name: String,
    in_flight: u32,
    ewma: PeakEwma,
}

#[derive(Debug, Clone)]
enum State {
    RoundRobin(RoundRobin),
    Weighted(SmoothWeighted),
    Ring(Ring),
    Maglev(Maglev),
    Stateless,
}

/// One priority level: its share, its candidates and the policy's state over them (each level
/// is balanced on its own, as Envoy keeps one balancer per priority).
#[derive(Debug, Clone)]
struct Level {
    plan: candidates::Level,
    state: State,
}

/// What a level looks like from outside: for the `lb_priority_load` and `lb_panic` gauges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LevelView {
    /// The level number.
    pub priority: u32,
    /// Percent of requests it gets.
    pub load: u32,
    /// Whether it balances over all its endpoints, ejected ones included.
    pub panic: bool,
}

/// A service's balancer.
#[derive(Debug, Clone)]
pub struct Balancer {
    policy: Policy,
    ewma: EwmaConfig,
    members: Vec<Member>,
    /// How members are grouped into priority levels and how the levels share traffic.
    rules: Levels,
    /// The levels, best first (see [`candidates::levels`]).
    levels: Vec<Level>,
    /// Addresses outlier detection ejected (shared health document), skipped by picks.
    ejected: Vec<SocketAddr>,
    /// Bumped whenever a level's load or panic state changes, so the filter republishes its
    /// gauges only then.
    levels_version: u64,
    rng: SplitMix64,
}

impl Balancer {
    /// An empty balancer for `policy`, its randomness seeded with `seed`.
    pub fn new(policy: Policy, seed: u64) -> Self {
        let ewma = match &policy {
            Policy::PeakEwma(config) => *config,
            _ => EwmaConfig::default(),
        };
        Self {
            policy,
            ewma,
            members: Vec::new(),
            rules: Levels::default(),
            levels: Vec::new(),
            ejected: Vec::new(),
            levels_version: 0,
            rng: SplitMix64::new(seed),
        }
    }

    /// The same balancer grouping endpoints into levels by `rules` (default: by `priority`,
    /// Envoy's factor 1.4 and panic threshold 50 %). Set before the endpoints.
    pub fn with_levels(mut self, rules: Levels) -> Self {
        self.rules = rules;
        self.rebuild(true);
        self
    }

    /// Replaces the endpoint set as of `now_ns`; load of endpoints that stay is kept, new ones
    /// start fresh (peak-EWMA at the default RTT). Later duplicates of an address are dropped.
    pub fn set_endpoints(&mut self, endpoints: Vec<Endpoint>, now_ns: u64) {
        let mut old = std::mem::take(&mut self.members);
        for endpoint in endpoints {
            if self
                .members
                .iter()
                .any(|m| m.endpoint.address == endpoint.address)
            {
                continue;
            }
            let member = match old
                .iter()
                .position(|m| m.endpoint.address == endpoint.address)
            {
                Some(i) => Member {
                    endpoint,
                    ..old.swap_remove(i)
                },
                None => Member {
                    name: endpoint.address.to_string(),
                    endpoint,
                    in_flight: 0,
                    ewma: PeakEwma::new(self.ewma, now_ns),
                },
            };
            self.members.push(member);
        }
        self.rebuild(true);
    }

    /// Skips `ejected` addresses from now on (an empty list brings every endpoint back).
    /// Rebuilds the candidates (and a hash policy's table) only when the list changed.
    pub fn set_ejected(&mut self, mut ejected: Vec<SocketAddr>) {
        ejected.sort_unstable();
        if ejected != self.ejected {
            self.ejected = ejected;
            self.rebuild(false);
        }
    }

    /// The addresses currently skipped as ejected.
    pub fn ejected(&self) -> &[SocketAddr] {
        &self.ejected
    }

    /// Recomputes the levels; a level's policy state is rebuilt if its candidates changed or
    /// `force` (a new set: weights or names may differ behind the same indices).
    fn rebuild(&mut self, force: bool) {
        let plans = candidates::levels(
            self.members.iter().map(|m| &m.endpoint),
            &self.ejected,
            &self.rules,
        );
        let mut old = std::mem::take(&mut self.levels);
        let same_view = old.len() == plans.len()
            && old.iter().zip(&plans).all(|(o, p)| {
                (o.plan.priority, o.plan.load, o.plan.panic) == (p.priority, p.load, p.panic)
            });
        if !same_view {
            self.levels_version += 1;
        }
        self.levels = plans
            .into_iter()
            .map(|plan| {
                let kept = old.iter().position(|l| {
                    !force
                        && l.plan.priority == plan.priority
                        && l.plan.candidates == plan.candidates
                });
                match kept {
                    Some(i) => Level {
                        plan,
                        state: old.swap_remove(i).state,
                    },
                    None => Level {
                        state: self.build_state(&plan.candidates),
                        plan,
                    },
                }
            })
            .collect();
    }

    fn build_state(&self, candidates: &[usize]) -> State {
        let weighted: Vec<(&str, u32)> = candidates
            .iter()
            .map(|&i| {
                (
                    self.members[i].name.as_str(),
                    self.members[i].endpoint.weight,
                )
            })
            .collect();
        match &self.policy {
            Policy::RoundRobin => State::RoundRobin(RoundRobin::default()),
            Policy::Weighted => State::Weighted(SmoothWeighted::default()),
            Policy::RingHash(_) => State::Ring(Ring::build(&weighted)),
            Policy::Maglev(_) => {
                State::Maglev(Maglev::build(&weighted, maglev::DEFAULT_TABLE_SIZE))
            }
            Policy::Random | Policy::LeastRequest | Policy::PeakEwma(_) => State::Stateless,
        }
    }

    /// The levels' loads and panic states, best first.
    pub fn levels(&self) -> impl Iterator<Item = LevelView> + '_ {
        self.levels.iter().map(|l| LevelView {
            priority: l.plan.priority,
            load: l.plan.load,
            panic: l.plan.panic,
        })
    }

    /// Changes whenever [`Balancer::levels`] shows something new.
    pub fn levels_version(&self) -> u64 {
        self.levels_version
    }

    /// The level a request goes to: the only one with load, or a draw against the loads. A
    /// hash policy draws with the request's hash (as Envoy does), so a key keeps its level
    /// while the loads do not change; the others draw from the generator.
    fn choose_level(&mut self, hash: Option<u64>) -> Option<usize> {
        let loaded = self.levels.iter().filter(|l| l.plan.load > 0).count();
        if loaded <= 1 {
            return self.levels.iter().position(|l| l.plan.load > 0);
        }
        let draw = match (hash, self.policy.hash_key()) {
            (Some(h), Some(_)) => (h % 100) as u32,
            _ => self.rng.below(100) as u32,
        };
        level_for(draw, self.levels.iter().map(|l| l.plan.load))
    }

    /// Chooses an endpoint and counts it in flight; `None` when no endpoint can be picked.
    ///
    /// `hash` is the request's key hash for hash policies; without one (header or cookie
    /// absent) they pick at random, as Envoy does. Other policies ignore it.
    pub fn pick(&mut self, hash: Option<u64>, now_ns: u64) -> Option<SocketAddr> {
        let level = self.choose_level(hash)?;
        let Level { plan, state } = &mut self.levels[level];
        let candidates = &plan.candidates;
        let n = candidates.len();
        if n == 0 {
            return None;
        }
        // `slot` indexes `candidates` (ring and Maglev are built over that list too).
        let slot = match (state, &self.policy) {
            (State::RoundRobin(rr), _) => rr.pick(n)?,
            (State::Weighted(w), _) => {
                let weights: Vec<u32> = candidates
                    .iter()
                    .map(|&i| self.members[i].endpoint.weight)
                    .collect();
                w.pick(&weights)?
            }
            (State::Ring(ring), _) => match hash {
                Some(h) => ring.lookup(h)?,
                None => self.rng.below(n),
            },
            (State::Maglev(table), _) => match hash {
                Some(h) => table.lookup(h)?,
                None => self.rng.below(n),
            },
            (State::Stateless, Policy::LeastRequest) => {
                let members = &self.members;
                p2c::pick(&mut self.rng, n, |c| members[candidates[c]].in_flight)?
            }
            (State::Stateless, Policy::PeakEwma(_)) => {
                let members = &mut self.members;
                p2c::pick(&mut self.rng, n, |c| {
                    let m = &mut members[candidates[c]];
                    m.ewma.cost(m.in_flight, now_ns)
                })?
            }
            (State::Stateless, _) => self.rng.below(n),
        };
        let member = &mut self.members[candidates[slot]];
        member.in_flight += 1;
        Some(member.endpoint.address)
    }

    /// Records how a request to `address` went, `rtt_ns` after it was sent, and returns the
    /// endpoint's new peak-EWMA estimate in nanoseconds (what the `lb_ewma_ms` gauge shows).
    /// Unknown addresses (removed from the set meanwhile) are ignored: `None`.
    pub fn observe(
        &mut self,
        address: SocketAddr,
        outcome: Outcome,
        rtt_ns: u64,
        now_ns: u64,
    ) -> Option<f64> {
        let floor = match outcome {
            Outcome::Success => 0,
            Outcome::Failure => self.ewma.default_rtt_ns,
        };
        let m = self.member_mut(address)?;
        Some(m.ewma.observe(rtt_ns.max(floor), now_ns))
    }

    /// Ends one request to `address`: in-flight goes down by one (never below 0).
    pub fn release(&mut self, address: SocketAddr) {
        if let Some(m) = self.member_mut(address) {
            m.in_flight = m.in_flight.saturating_sub(1);
        }
    }

    /// Requests to `address` started and not yet released, if it is in the set.
    pub fn in_flight(&self, address: SocketAddr) -> Option<u32> {
        self.members
            .iter()
            .find(|m| m.endpoint.address == address)
            .map(|m| m.in_flight)
    }

    /// The current set, in order.
    pub fn endpoints(&self) -> impl Iterator<Item = &Endpoint> {
        self.members.iter().map(|m| &m.endpoint)
    }

    /// The policy this balancer runs.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    fn member_mut(&mut self, address: SocketAddr) -> Option<&mut Member> {
        self.members
            .iter_mut()
            .find(|m| m.endpoint.address == address)
    }
}

#[cfg(test)]
mod tests;
