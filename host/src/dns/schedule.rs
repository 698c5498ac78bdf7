//! When to look a name up again, and what a failure does to the published set's freshness.
//!
//! After a good answer: when its TTL runs out, but never later than `refresh_ms` (a long TTL
//! must not hide a change for an hour) nor sooner than `min_refresh_ms` (a TTL of 0 must not
//! mean a busy loop). After a failure: `min_refresh_ms` plus the jittered exponential backoff
//! the `discovery` filter uses (base `min_refresh_ms`, cap `max_backoff_ms`), and the set is
//! stale until the next good answer.

use std::time::Duration;

use super::config::DnsService;

/// The refresh schedule and freshness of one service.
#[derive(Debug, Clone)]
pub struct Schedule {
    min_ms: u64,
    max_ms: u64,
    /// Backoff bounds: the first failure's wait is at most `base_ms`, doubling up to `cap_ms`.
    base_ms: u64,
    cap_ms: u64,
    /// The jitter's generator (it needs spread, not secrecy).
    rng: fastrand::Rng,
    failures: u32,
    stale: bool,
}

/// What a failure changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failed {
    /// Consecutive failures, this one included.
    pub consecutive: u32,
    /// Wait before the next try.
    pub retry_in: Duration,
    /// This failure made a fresh set stale (log it once, not on every retry).
    pub became_stale: bool,
}

impl Schedule {
    /// The schedule of `service`; `seed` feeds the jitter.
    pub fn new(service: &DnsService, seed: u64) -> Self {
        Self {
            min_ms: service.min_refresh_ms,
            max_ms: service.refresh_ms.max(service.min_refresh_ms),
            base_ms: service.min_refresh_ms,
            cap_ms: service.max_backoff_ms.max(service.min_refresh_ms),
            rng: fastrand::Rng::with_seed(seed),
            failures: 0,
            stale: false,
        }
    }

    /// A good answer with TTL `ttl_s`: the wait before the next lookup, and whether the set
    /// was stale until now.
    pub fn succeeded(&mut self, ttl_s: u32) -> (Duration, bool) {
        self.failures = 0;
        let ttl_ms = u64::from(ttl_s).saturating_mul(1000);
        let wait = ttl_ms.clamp(self.min_ms, self.max_ms);
        (
            Duration::from_millis(wait),
            std::mem::replace(&mut self.stale, false),
        )
    }

    /// A failed lookup: the set is stale, back off.
    pub fn failed(&mut self) -> Failed {
        self.failures = self.failures.saturating_add(1);
        let retry_ms = self.min_ms + self.jittered_backoff_ms();
        Failed {
            consecutive: self.failures,
            retry_in: Duration::from_millis(retry_ms),
            became_stale: !std::mem::replace(&mut self.stale, true),
        }
    }

    /// Exponential backoff with full jitter after `failures` failures in a row: uniform in
    /// `[0, min(cap, base × 2^(failures-1))]`, so workers that failed together do not retry
    /// together.
    fn jittered_backoff_ms(&mut self) -> u64 {
        let shift = self.failures.saturating_sub(1).min(32);
        let bound = self.base_ms.saturating_mul(1 << shift).min(self.cap_ms);
        if bound == 0 {
            return 0;
        }
        self.rng.u64(0..=bound)
    }

    /// Whether the published set is the last good one of a failing lookup.
    #[cfg(test)]
    fn is_stale(&self) -> bool {
        self.stale
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(min: u64, max: u64, backoff: u64) -> DnsService {
        serde_json::from_value(serde_json::json!({
            "service": "web", "name": "web.test", "port": 80,
            "min_refresh_ms": min, "refresh_ms": max, "max_backoff_ms": backoff,
        }))
        .unwrap()
    }

    #[test]
    fn ttl_sets_the_next_lookup_within_the_bounds() {
        let mut schedule = Schedule::new(&service(500, 5000, 30_000), 1);
        let wait = |s: &mut Schedule, ttl| s.succeeded(ttl).0.as_millis();
        assert_eq!(wait(&mut schedule, 2), 2000, "the TTL");
        assert_eq!(wait(&mut schedule, 0), 500, "the floor");
        assert_eq!(wait(&mut schedule, 3600), 5000, "the longest interval");
    }

    #[test]
    fn failures_go_stale_once_back_off_and_recover() {
        let mut schedule = Schedule::new(&service(100, 1000, 400), 7);
        let first = schedule.failed();
        assert!(first.became_stale && schedule.is_stale());
        assert!(
            (100..=200).contains(&first.retry_in.as_millis()),
            "{first:?}"
        );
        let mut longest = 0;
        for _ in 0..50 {
            let f = schedule.failed();
            assert!(!f.became_stale);
            assert!((100..=500).contains(&f.retry_in.as_millis()), "{f:?}");
            longest = longest.max(f.retry_in.as_millis());
        }
        assert!(longest > 300, "the backoff grows: {longest}");
        assert_eq!(schedule.failed().consecutive, 52);
        let (_, was_stale) = schedule.succeeded(1);
        assert!(was_stale && !schedule.is_stale());
        assert_eq!(schedule.failed().consecutive, 1, "a good answer resets");
    }
}
