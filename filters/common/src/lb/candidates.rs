//! Which endpoints a pick may return: weight above 0, not ejected by outlier detection, and of
//! the best (lowest) priority among those. Ejections are only advice: if they would leave
//! nothing to pick, they are ignored (Envoy's panic mode does the same at its threshold), so an
//! outage of every endpoint still sends traffic somewhere instead of answering 503 for it.

use std::net::SocketAddr;

use crate::endpoint::Endpoint;

/// Indices into `endpoints` of the candidates, given the `ejected` addresses.
pub fn candidates<'a>(
    endpoints: impl Iterator<Item = &'a Endpoint> + Clone,
    ejected: &[SocketAddr],
) -> Vec<usize> {
    let healthy = select(endpoints.clone(), |e| !ejected.contains(&e.address));
    if healthy.is_empty() {
        select(endpoints, |_| true)
    } else {
        healthy
    }
}

fn select<'a>(
    endpoints: impl Iterator<Item = &'a Endpoint> + Clone,
    usable: impl Fn(&Endpoint) -> bool,
) -> Vec<usize> {
    let ok = |e: &Endpoint| e.weight > 0 && usable(e);
    let best = endpoints
        .clone()
        .filter(|e| ok(e))
        .map(|e| e.priority)
        .min();
    endpoints
        .enumerate()
        .filter(|(_, e)| ok(e) && Some(e.priority) == best)
        .map(|(i, _)| i)
        .collect()
}

#[cfg(test)]
mod tests;
