//! Backoff between retries, exponential with full jitter (as Envoy's retry back-off): the n-th
//! retry waits a uniform random time in `[0, min(max, base × 2^(n-1))]`, so clients that failed
//! together do not come back together.

use crate::lb::random::Rng;

/// Back-off settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Upper bound of the first retry's wait (Envoy's default 25 ms).
    pub base_ms: u64,
    /// Largest upper bound (Envoy's default 10 × base).
    pub max_ms: u64,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base_ms: 25,
            max_ms: 250,
        }
    }
}

impl Backoff {
    /// The wait before retry number `retry` (1 for the first).
    pub fn delay_ms<R: Rng + ?Sized>(&self, retry: u32, rng: &mut R) -> u64 {
        let shift = retry.saturating_sub(1).min(32);
        let cap = self.base_ms.saturating_mul(1 << shift).min(self.max_ms);
        if cap == 0 {
            return 0;
        }
        rng.next_u64() % (cap + 1)
    }
}

#[cfg(test)]
mod tests;
