//! A backend that fails part of its requests on purpose: every n-th request it receives is
//! answered `503`, whatever its path, changeable while it serves.
//!
//! It exists for retry and retry-budget tests: a *live* endpoint that fails half the time
//! (n = 2) is what a budget must cope with, and unlike `/status/503` a retry of the same path
//! to a healthy peer succeeds. Deterministic (a counter, not a coin), so a test's figures do
//! not depend on luck, and a 503 is never followed by another one when n ≥ 2.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The failure rate of one backend, shared by its handle and its connections (clones share it).
#[derive(Debug, Clone, Default)]
pub struct Flaky {
    every: Arc<AtomicU64>,
    seen: Arc<AtomicU64>,
}

impl Flaky {
    /// Every `n`-th request from now on fails (0 = none).
    pub fn set_every(&self, n: u64) {
        self.every.store(n, Ordering::Relaxed);
    }

    /// Counts a request; whether it is one to fail.
    pub fn fails_next(&self) -> bool {
        let every = self.every.load(Ordering::Relaxed);
        every != 0 && (self.seen.fetch_add(1, Ordering::Relaxed) + 1).is_multiple_of(every)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_second_request_fails() {
        let flaky = Flaky::default();
        assert!(!(0..5).any(|_| flaky.fails_next()), "off by default");
        let clone = flaky.clone();
        clone.set_every(2);
        let fails: Vec<bool> = (0..6).map(|_| flaky.fails_next()).collect();
        assert_eq!(fails.iter().filter(|f| **f).count(), 3);
        assert!(fails.windows(2).all(|w| !(w[0] && w[1])), "{fails:?}");
    }
}
