//! Maglev consistent hashing (Google's Maglev paper, as in Envoy's `MAGLEV` policy): a lookup
//! table of prime size M filled by letting each endpoint claim slots in the order of its own
//! permutation of `0..M`, so a lookup is one array index and every endpoint owns ~M/N slots.
//!
//! Disruption when the set changes is close to minimal (slightly above the ring's), and the
//! load is spread more evenly than a ring of similar memory. Weights follow Envoy: an endpoint
//! of weight w claims a slot on every `max_weight / w`-th round.

use crate::hash::hash64_seeded;

/// Envoy's default table size (a prime, so every skip is coprime with it).
pub const DEFAULT_TABLE_SIZE: usize = 65_537;

const OFFSET_SEED: u64 = 0x6d61_676c_6576_6f66; // "maglevof"
const SKIP_SEED: u64 = 0x6d61_676c_6576_736b; // "maglevsk"

/// A filled lookup table of member indices.
#[derive(Debug, Clone, Default)]
pub struct Maglev {
    table: Vec<u32>,
}

struct Builder {
    offset: u64,
    skip: u64,
    next: u64,
    weight: u64,
    target: u64,
}

impl Maglev {
    /// Builds a table of `size` slots (must be prime; use [`DEFAULT_TABLE_SIZE`]) over
    /// `members` (`(stable name, weight)`; weight 0 gets no slots).
    pub fn build(members: &[(&str, u32)], size: usize) -> Self {
        let max_weight = members
            .iter()
            .map(|(_, w)| u64::from(*w))
            .max()
            .unwrap_or(0);
        if max_weight == 0 || size < 2 {
            return Self::default();
        }
        let m = size as u64;
        let mut builders: Vec<(usize, Builder)> = members
            .iter()
            .enumerate()
            .filter(|(_, (_, w))| *w > 0)
            .map(|(index, (name, weight))| {
                let builder = Builder {
                    offset: hash64_seeded(name.as_bytes(), OFFSET_SEED) % m,
                    skip: hash64_seeded(name.as_bytes(), SKIP_SEED) % (m - 1) + 1,
                    next: 0,
                    weight: u64::from(*weight),
                    target: max_weight,
                };
                (index, builder)
            })
            .collect();
        const EMPTY: u32 = u32::MAX;
        let mut table = vec![EMPTY; size];
        let mut filled = 0;
        let mut round: u64 = 1;
        while filled < size {
            for (index, b) in builders.iter_mut() {
                if filled == size {
                    break;
                }
                if round * b.weight < b.target {
                    continue;
                }
                b.target += max_weight;
                loop {
                    let slot = ((b.offset + b.next * b.skip) % m) as usize;
                    b.next += 1;
                    if table[slot] == EMPTY {
                        table[slot] = *index as u32;
                        filled += 1;
                        break;
                    }
                }
            }
            round += 1;
        }
        Self { table }
    }

    /// The member owning `hash`, or `None` for an empty table.
    pub fn lookup(&self, hash: u64) -> Option<usize> {
        if self.table.is_empty() {
            return None;
        }
        Some(self.table[(hash % self.table.len() as u64) as usize] as usize)
    }
}

#[cfg(test)]
mod tests;
