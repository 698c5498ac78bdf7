//! The endpoint a retry goes to: a different one, not ejected, of the best level left, chosen
//! at random by weight. Levels are `lb`'s ([`level_of`]): the priority, split by zone when a
//! `local_zone` is configured, so a retry stays in the local zone while an untried healthy
//! endpoint is left there, as `lb`'s own picks do. The balancer's own state (in-flight,
//! latency, the levels' loads) belongs to `lb`; a retry only needs "somewhere else that is
//! healthy, as near as possible".

use std::net::SocketAddr;

use crate::lb::candidates::level_of;
use crate::lb::random::Rng;
use wasmesh_contract::endpoint::Endpoint;

/// Picks among `endpoints` those with weight above 0 for which `avoid` is false, at the best
/// (lowest) level present ([`level_of`] with `local_zone`); weighted random. `None` when
/// nothing is left.
pub fn pick_other<R: Rng + ?Sized>(
    endpoints: &[Endpoint],
    local_zone: Option<&str>,
    avoid: impl Fn(SocketAddr) -> bool,
    rng: &mut R,
) -> Option<SocketAddr> {
    let usable: Vec<(u32, &Endpoint)> = endpoints
        .iter()
        .filter(|e| e.weight > 0 && !avoid(e.address))
        .map(|e| (level_of(e, local_zone), e))
        .collect();
    let best = usable.iter().map(|(level, _)| *level).min()?;
    let level: Vec<&Endpoint> = usable
        .into_iter()
        .filter(|(l, _)| *l == best)
        .map(|(_, e)| e)
        .collect();
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
