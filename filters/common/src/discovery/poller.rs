//! When to poll a registry, and what a failure does: the last good set stays published and is
//! marked stale, and the next try waits the poll interval plus an exponential, jittered backoff
//! (the `failover` [`Backoff`], base = the poll interval, capped at `max_backoff_ms`), so a
//! registry that is down is not hammered by every worker of every proxy at once.

use crate::failover::backoff::Backoff;
use crate::lb::random::SplitMix64;

/// A poll whose answer has not come within this many timeouts is counted as failed (a host
/// that never calls back must not stop discovery for good).
const LOST_AFTER_TIMEOUTS: u64 = 2;

/// The poll schedule and health of one source.
#[derive(Debug, Clone)]
pub struct Poller {
    poll_ms: u64,
    timeout_ms: u64,
    backoff: Backoff,
    rng: SplitMix64,
    next_ms: u64,
    in_flight_since: Option<u64>,
    failures: u32,
    stale: bool,
}

/// What a failure changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    /// Consecutive failures so far, this one included.
    pub consecutive: u32,
    /// The wait before the next try.
    pub retry_in_ms: u64,
    /// Whether this failure turned a fresh set stale (log it once, not on every retry).
    pub became_stale: bool,
}

impl Poller {
    /// A schedule polling every `poll_ms`, due at once; `seed` feeds the jitter.
    pub fn new(poll_ms: u64, timeout_ms: u64, max_backoff_ms: u64, seed: u64) -> Self {
        Self {
            poll_ms,
            timeout_ms,
            backoff: Backoff {
                base_ms: poll_ms,
                max_ms: max_backoff_ms.max(poll_ms),
            },
            rng: SplitMix64::new(seed),
            next_ms: 0,
            in_flight_since: None,
            failures: 0,
            stale: false,
        }
    }

    /// Whether a poll should start at `now_ms`. A poll in flight for too long is given up as
    /// a failure first (returned so the caller can log and count it).
    pub fn due(&mut self, now_ms: u64) -> (bool, Option<Failure>) {
        let mut lost = None;
        if let Some(since) = self.in_flight_since {
            if now_ms.saturating_sub(since) < LOST_AFTER_TIMEOUTS * self.timeout_ms.max(1) {
                return (false, None);
            }
            lost = Some(self.failed(now_ms));
        }
        (now_ms >= self.next_ms, lost)
    }

    /// A poll was sent at `now_ms`.
    pub fn sent(&mut self, now_ms: u64) {
        self.in_flight_since = Some(now_ms);
    }

    /// The answer was good; returns whether the set was stale until now.
    pub fn succeeded(&mut self, now_ms: u64) -> bool {
        self.in_flight_since = None;
        self.failures = 0;
        self.next_ms = now_ms + self.poll_ms;
        std::mem::replace(&mut self.stale, false)
    }

    /// Makes the next poll due at once (a blocking query answered, a probe saw a change)
    /// instead of a poll interval after the last answer.
    pub fn ask_again(&mut self, now_ms: u64) {
        self.next_ms = now_ms;
    }

    /// The poll failed (no answer, bad status, garbage): the set is stale, back off.
    pub fn failed(&mut self, now_ms: u64) -> Failure {
        self.in_flight_since = None;
        self.failures = self.failures.saturating_add(1);
        let retry_in_ms = self.poll_ms + self.backoff.delay_ms(self.failures, &mut self.rng);
        self.next_ms = now_ms + retry_in_ms;
        let became_stale = !std::mem::replace(&mut self.stale, true);
        Failure {
            consecutive: self.failures,
            retry_in_ms,
            became_stale,
        }
    }

    /// Whether the published set is the last good one of a source that is failing now.
    pub fn is_stale(&self) -> bool {
        self.stale
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polls_on_schedule() {
        let mut poller = Poller::new(100, 50, 1000, 1);
        assert_eq!(poller.due(0), (true, None));
        poller.sent(0);
        assert_eq!(poller.due(10), (false, None), "one poll at a time");
        assert!(!poller.succeeded(20));
        assert!(!poller.due(119).0);
        assert!(poller.due(120).0);
        poller.sent(120);
        poller.succeeded(130);
        poller.ask_again(130);
        assert!(poller.due(130).0, "asked again at once");
    }

    #[test]
    fn failures_go_stale_once_and_back_off_up_to_the_cap() {
        let mut poller = Poller::new(100, 50, 400, 7);
        let first = poller.failed(0);
        assert!(first.became_stale && poller.is_stale());
        assert!((100..=200).contains(&first.retry_in_ms), "{first:?}");
        let mut longest = 0;
        for _ in 0..50 {
            let f = poller.failed(0);
            assert!(!f.became_stale);
            assert!((100..=500).contains(&f.retry_in_ms), "{f:?}");
            longest = longest.max(f.retry_in_ms);
        }
        assert!(longest > 300, "the backoff grows: {longest}");
        assert!(
            poller.succeeded(0),
            "recovering reports the stale period's end"
        );
        assert!(!poller.is_stale());
    }

    #[test]
    fn a_lost_answer_is_a_failure() {
        let mut poller = Poller::new(100, 50, 1000, 1);
        poller.sent(0);
        let (due, lost) = poller.due(100);
        assert!(!due, "retried after the backoff, not at once");
        assert_eq!(lost.map(|f| f.consecutive), Some(1));
    }
}
