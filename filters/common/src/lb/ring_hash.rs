//! Ketama-style consistent hashing: every endpoint owns many points ("virtual nodes") on a
//! 64-bit ring; a key goes to the owner of the first point at or after the key's hash.
//!
//! Adding one endpoint to N only moves the keys that land on its new points, about
//! 1/(N+1) of them, and they all move *to* it; removing one only moves its own keys. That holds
//! because an endpoint's points depend on nothing but its own name and weight:
//! [`POINTS_PER_WEIGHT`] per unit of weight (ketama's 160), scaled down only when the ring would
//! exceed [`MAX_RING_SIZE`].

use crate::hash::hash64;

/// Points per unit of weight (ketama): shares within ~10 % of the weights.
pub const POINTS_PER_WEIGHT: u64 = 160;
/// Largest ring built, so absurd weights cannot exhaust a VM's memory.
pub const MAX_RING_SIZE: u64 = 1 << 20;

/// A built ring: sorted `(point hash, member index)`.
#[derive(Debug, Clone, Default)]
pub struct Ring {
    points: Vec<(u64, u32)>,
}

impl Ring {
    /// Builds the ring over `members` (`(stable name, weight)`; weight 0 gets no points). The
    /// name is what keeps points stable across rebuilds: use the endpoint's address.
    pub fn build(members: &[(&str, u32)]) -> Self {
        let total_weight: u64 = members.iter().map(|(_, w)| u64::from(*w)).sum();
        if total_weight == 0 {
            return Self::default();
        }
        // Huge weights: scale every endpoint down alike (this one case moves more keys).
        let per_weight = POINTS_PER_WEIGHT.min((MAX_RING_SIZE / total_weight).max(1));
        let size = (per_weight * total_weight).min(MAX_RING_SIZE * 2);
        let mut points = Vec::with_capacity(size as usize);
        for (index, (name, weight)) in members.iter().enumerate() {
            if *weight == 0 {
                continue;
            }
            let share = per_weight * u64::from(*weight);
            for replica in 0..share {
                let point = hash64(format!("{name}_{replica}").as_bytes());
                points.push((point, index as u32));
            }
        }
        // Ties (vanishingly rare) are broken by index, so every worker builds the same ring.
        points.sort_unstable();
        Self { points }
    }

    /// The member owning `hash`, or `None` for an empty ring.
    pub fn lookup(&self, hash: u64) -> Option<usize> {
        if self.points.is_empty() {
            return None;
        }
        let at = self.points.partition_point(|(point, _)| *point < hash);
        let (_, index) = self.points[at % self.points.len()];
        Some(index as usize)
    }

    /// Number of points (for tests and logs).
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// Whether the ring has no points (no member with a weight).
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }
}

#[cfg(test)]
mod tests;
