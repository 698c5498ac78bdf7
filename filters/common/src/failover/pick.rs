//! The endpoint a retry goes to: a different one, not ejected, of the best priority left,
//! chosen at random by weight. The balancer's own state (in-flight, latency) belongs to `lb`;
//! a retry only needs "somewhere else that is healthy".

use std::net::SocketAddr;

use crate::endpoint::Endpoint;
use crate::lb::random::Rng;

/// Picks among `endpoints` those with weight above 0 for which `avoid` is false, at the best
/// (lowest) priority present; weighted random. `None` when nothing is left.
pub fn pick_other<R: Rng + ?Sized>(
    endpoints: &[Endpoint],
    avoid: impl Fn(SocketAddr) -> bool,
    rng: &mut R,
) -> Option<SocketAddr> {
    let usable: Vec<&Endpoint> = endpoints
        .iter()
        .filter(|e| e.weight > 0 && !avoid(e.address))
        .collect();
    let best = usable.iter().map(|e| e.priority).min()?;
    let level: Vec<&Endpoint> = usable.into_iter().filter(|e| e.priority == best).collect();
    let total: u64 = level.iter().map(|e| u64::from(e.weight)).sum();
    let mut ticket = rng.next_u64() % total;
    for e in &level {
        let weight = u64::from(e.weight);
        if ticket < weight {
            return Some(e.address);
        }
        ticket -= weight;
    }
    level.last().map(|e| e.address)
}

#[cfg(test)]
mod tests;
