//! One service's balancer: the endpoint set, per-endpoint load (in-flight, latency estimate)
//! and the policy's own state. One per VM (per worker), like Envoy's per-worker balancers: no
//! locks, and load is what this worker sees.
//!
//! The filter calls [`Balancer::pick`] on request headers, [`Balancer::observe`] when the
//! response (or its failure) is known, and [`Balancer::release`] exactly once when the stream
//! ends. Replacing the set with [`Balancer::set_endpoints`] keeps the load of endpoints that
//! stay (matched by address), so a discovery update does not reset what was learnt.

use std::net::SocketAddr;

use crate::endpoint::Endpoint;
use crate::lb::candidates::candidates;
use crate::lb::config::Policy;
use crate::lb::maglev::{self, Maglev};
use crate::lb::p2c;
use crate::lb::peak_ewma::{EwmaConfig, PeakEwma};
use crate::lb::random::{Rng, SplitMix64};
use crate::lb::ring_hash::Ring;
use crate::lb::round_robin::RoundRobin;
use crate::lb::weighted::SmoothWeighted;

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

/// A service's balancer.
#[derive(Debug, Clone)]
pub struct Balancer {
    policy: Policy,
    ewma: EwmaConfig,
    members: Vec<Member>,
    /// Indices of the members a pick may return (see [`candidates`]).
    candidates: Vec<usize>,
    /// Addresses outlier detection ejected (shared health document), skipped by picks.
    ejected: Vec<SocketAddr>,
    state: State,
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
            candidates: Vec::new(),
            ejected: Vec::new(),
            state: State::Stateless,
            rng: SplitMix64::new(seed),
        }
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

    /// Recomputes the candidates; the policy state too if they changed or `force` (a new set:
    /// weights or names may differ behind the same indices).
    fn rebuild(&mut self, force: bool) {
        let candidates = candidates(self.members.iter().map(|m| &m.endpoint), &self.ejected);
        if force || candidates != self.candidates {
            self.candidates = candidates;
            self.state = self.build_state();
        }
    }

    fn build_state(&self) -> State {
        let weighted: Vec<(&str, u32)> = self
            .candidates
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

    /// Chooses an endpoint and counts it in flight; `None` when no endpoint can be picked.
    ///
    /// `hash` is the request's key hash for hash policies; without one (header or cookie
    /// absent) they pick at random, as Envoy does. Other policies ignore it.
    pub fn pick(&mut self, hash: Option<u64>, now_ns: u64) -> Option<SocketAddr> {
        let n = self.candidates.len();
        if n == 0 {
            return None;
        }
        // `slot` indexes `candidates` (ring and Maglev are built over that list too).
        let slot = match (&mut self.state, &self.policy) {
            (State::RoundRobin(rr), _) => rr.pick(n)?,
            (State::Weighted(w), _) => {
                let weights: Vec<u32> = self
                    .candidates
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
                let (members, candidates) = (&self.members, &self.candidates);
                p2c::pick(&mut self.rng, n, |c| members[candidates[c]].in_flight)?
            }
            (State::Stateless, Policy::PeakEwma(_)) => {
                let (members, candidates) = (&mut self.members, &self.candidates);
                p2c::pick(&mut self.rng, n, |c| {
                    let m = &mut members[candidates[c]];
                    m.ewma.cost(m.in_flight, now_ns)
                })?
            }
            (State::Stateless, _) => self.rng.below(n),
        };
        let member = &mut self.members[self.candidates[slot]];
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
