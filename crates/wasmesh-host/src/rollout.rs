//! A plugin's rollout: a canary version (another module or configuration) beside the stable
//! one, the share of streams it gets, and its automatic rollback. One [`Rollout`] per plugin
//! with a canary, shared by every worker's chains; the chain reports what the canary did
//! ([`Rollout::record_failure`], [`Rollout::record_local_reply`]) and asks it which version a
//! new stream gets ([`Rollout::picks_canary`]).
//!
//! The window the thresholds look at is [`BUCKETS`] atomic buckets, so counting a stream takes
//! no lock on the request path; a count that lands while its bucket is being reused for a new
//! period may be lost, which a threshold of a few failures in seconds can afford.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;

/// How many buckets the window is cut into.
pub const BUCKETS: usize = 10;

/// What keeps a client on one version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Sticky {
    /// Every stream of a connection gets the same version.
    Connection,
    /// Every stream with the same value of this request header gets the same version (streams
    /// without it: by connection).
    Header(String),
}

/// When the canary is rolled back by itself.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RollbackPolicy {
    /// Canary VM failures (traps, time or memory cap, invalid returns) within the window that
    /// roll it back.
    pub vm_failures: u64,
    /// Share of the canary's streams answered by a 5xx local reply of the canary, in percent,
    /// that rolls it back once the window holds at least `min_streams` canary streams.
    pub local_5xx_percent: Option<u8>,
    /// Canary streams the window must hold before the 5xx share counts.
    pub min_streams: u64,
    /// The window (shown as `window_ms`).
    #[serde(rename = "window_ms", serialize_with = "as_millis")]
    pub window: Duration,
}

fn as_millis<S: serde::Serializer>(window: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_u128(window.as_millis())
}

/// The rollout as configured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RolloutPolicy {
    /// Share of streams the canary gets, 0..=100 percent.
    pub share_percent: u8,
    /// What keeps a client on one version.
    pub sticky: Sticky,
    /// The canary only watches: its share of streams also run it on a copy of the request
    /// headers, and it sees the real outcome in `on_log`, but what it does changes nothing.
    pub shadow: bool,
    /// When it is rolled back by itself.
    pub rollback: RollbackPolicy,
}

/// Where the rollout stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// The canary gets its configured share.
    Canary,
    /// Every stream gets the canary (`POST /rollout?action=promote`), the stable version stays
    /// as its fallback.
    Promoted,
    /// No stream gets the canary: rolled back by hand or by a threshold.
    RolledBack,
}

impl Phase {
    fn from_u8(value: u8) -> Phase {
        match value {
            1 => Phase::Promoted,
            2 => Phase::RolledBack,
            _ => Phase::Canary,
        }
    }
}

#[derive(Default)]
struct Bucket {
    /// Which period (window / BUCKETS long, counted from the rollout's start) it holds.
    period: AtomicU64,
    streams: AtomicU64,
    failures: AtomicU64,
    replies_5xx: AtomicU64,
}

/// What a rollout reports at `/config`, `/metrics` and in the live view.
#[derive(Debug, Clone, Serialize)]
pub struct RolloutStatus {
    /// The plugin.
    pub plugin: String,
    /// Where it stands.
    pub phase: Phase,
    /// Share of new streams the canary gets now, percent.
    pub share_now: u8,
    /// As configured.
    pub policy: RolloutPolicy,
    /// Why it was rolled back or promoted, and when (unix ms).
    pub reason: Option<String>,
    /// When the phase last changed, unix ms.
    pub changed_ms: Option<u64>,
    /// Streams each version got: `[stable, canary]` (in shadow mode, `canary` counts the
    /// streams the canary watched, all of which the stable version served).
    pub streams: [u64; 2],
    /// Canary streams lost to its VM (failed, or down after a failure).
    pub canary_failures: u64,
    /// Streams that went to the stable version because the canary failed before passing them on.
    pub fallbacks: u64,
    /// Times it was rolled back.
    pub rollbacks: u64,
}

/// One plugin's rollout, shared by every worker.
pub struct Rollout {
    plugin: String,
    policy: RolloutPolicy,
    phase: AtomicU8,
    reason: Mutex<(Option<String>, Option<u64>)>,
    started: Instant,
    buckets: [Bucket; BUCKETS],
    streams: [AtomicU64; 2],
    canary_failures: AtomicU64,
    fallbacks: AtomicU64,
    rollbacks: AtomicU64,
}

impl Rollout {
    /// A rollout of `plugin`'s canary under `policy`, giving the canary its share.
    pub fn new(plugin: &str, policy: RolloutPolicy) -> Rollout {
        Rollout {
            plugin: plugin.to_string(),
            policy,
            phase: AtomicU8::new(0),
            reason: Mutex::new((None, None)),
            started: Instant::now(),
            buckets: Default::default(),
            streams: Default::default(),
            canary_failures: AtomicU64::new(0),
            fallbacks: AtomicU64::new(0),
            rollbacks: AtomicU64::new(0),
        }
    }

    /// As configured.
    pub fn policy(&self) -> &RolloutPolicy {
        &self.policy
    }

    /// Where it stands.
    pub fn phase(&self) -> Phase {
        Phase::from_u8(self.phase.load(Ordering::Acquire))
    }

    /// Share of new streams the canary gets now, percent.
    pub fn share_now(&self) -> u8 {
        match self.phase() {
            Phase::Canary => self.policy.share_percent,
            Phase::Promoted => 100,
            Phase::RolledBack => 0,
        }
    }

    /// Whether a new stream whose sticky key hashes to `key` gets the canary; counts it.
    pub fn picks_canary(&self, key: u64) -> bool {
        let canary = key % 100 < u64::from(self.share_now());
        self.streams[usize::from(canary)].fetch_add(1, Ordering::Relaxed);
        if canary {
            self.bucket().streams.fetch_add(1, Ordering::Relaxed);
        }
        canary
    }

    /// A canary stream was lost to its VM (`kind`: how it failed, or `vm_down`): counted, and
    /// the rollout rolled back when the window holds `vm_failures` of them.
    pub fn record_failure(&self, kind: &str) {
        self.canary_failures.fetch_add(1, Ordering::Relaxed);
        self.bucket().failures.fetch_add(1, Ordering::Relaxed);
        let (_, failures, _) = self.window_sums();
        let limit = self.policy.rollback.vm_failures;
        if failures >= limit {
            self.roll_back(format!(
                "{failures} canary streams lost to VM failures (the last: {kind}) within {:?}, the limit is {limit}",
                self.policy.rollback.window
            ));
        }
    }

    /// The canary went to the stable version for one stream (it failed before passing it on).
    pub fn record_fallback(&self) {
        self.fallbacks.fetch_add(1, Ordering::Relaxed);
    }

    /// The canary answered a stream itself with `status`: a 5xx counts towards the threshold.
    pub fn record_local_reply(&self, status: u16) {
        if !(500..600).contains(&status) {
            return;
        }
        self.bucket().replies_5xx.fetch_add(1, Ordering::Relaxed);
        let Some(limit) = self.policy.rollback.local_5xx_percent else {
            return;
        };
        let (streams, _, replies) = self.window_sums();
        if streams >= self.policy.rollback.min_streams.max(1)
            && replies * 100 >= u64::from(limit) * streams
        {
            self.roll_back(format!(
                "{replies} of {streams} canary streams answered 5xx by the canary within {:?}, the limit is {limit}%",
                self.policy.rollback.window
            ));
        }
    }

    /// Stops giving the canary streams; logs why the first time. False if it was already.
    pub fn roll_back(&self, why: String) -> bool {
        let previous = self.phase.swap(2, Ordering::AcqRel);
        if previous == 2 {
            return false;
        }
        self.rollbacks.fetch_add(1, Ordering::Relaxed);
        log::warn!(
            "plugin {:?}: canary rolled back, every stream gets the stable version: {why}",
            self.plugin
        );
        self.set_reason(Some(why));
        true
    }

    /// Gives every new stream the canary (the stable version stays as its fallback).
    pub fn promote(&self, why: String) {
        self.phase.store(1, Ordering::Release);
        log::info!(
            "plugin {:?}: canary promoted, every stream gets it: {why}",
            self.plugin
        );
        self.set_reason(Some(why));
    }

    /// Back to the configured share.
    pub fn resume(&self) {
        self.phase.store(0, Ordering::Release);
        log::info!(
            "plugin {:?}: canary gets its share of {}% again",
            self.plugin,
            self.policy.share_percent
        );
        self.set_reason(None);
    }

    /// What it reports.
    pub fn status(&self) -> RolloutStatus {
        let (reason, changed_ms) = self
            .reason
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        RolloutStatus {
            plugin: self.plugin.clone(),
            phase: self.phase(),
            share_now: self.share_now(),
            policy: self.policy.clone(),
            reason,
            changed_ms,
            streams: [0, 1].map(|i| self.streams[i].load(Ordering::Relaxed)),
            canary_failures: self.canary_failures.load(Ordering::Relaxed),
            fallbacks: self.fallbacks.load(Ordering::Relaxed),
            rollbacks: self.rollbacks.load(Ordering::Relaxed),
        }
    }

    fn set_reason(&self, reason: Option<String>) {
        let now_ms = crate::embedder::system_now_nanos() / 1_000_000;
        *self.reason.lock().unwrap_or_else(|e| e.into_inner()) = (reason, Some(now_ms));
    }

    /// How long one bucket's period is, at least a millisecond.
    fn period_ms(&self) -> u64 {
        let window = u64::try_from(self.policy.rollback.window.as_millis()).unwrap_or(u64::MAX);
        (window / BUCKETS as u64).max(1)
    }

    fn period_now(&self) -> u64 {
        let elapsed = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        elapsed / self.period_ms()
    }

    /// The bucket of the current period, emptied first if it held an older one.
    fn bucket(&self) -> &Bucket {
        let period = self.period_now();
        let bucket = &self.buckets[(period % BUCKETS as u64) as usize];
        let held = bucket.period.load(Ordering::Acquire);
        if held != period
            && bucket
                .period
                .compare_exchange(held, period, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            bucket.streams.store(0, Ordering::Relaxed);
            bucket.failures.store(0, Ordering::Relaxed);
            bucket.replies_5xx.store(0, Ordering::Relaxed);
        }
        bucket
    }

    /// (canary streams, canary failures, canary 5xx replies) in the window.
    fn window_sums(&self) -> (u64, u64, u64) {
        let now = self.period_now();
        let mut sums = (0, 0, 0);
        for bucket in &self.buckets {
            let period = bucket.period.load(Ordering::Acquire);
            if period + (BUCKETS as u64) > now && period <= now {
                sums.0 += bucket.streams.load(Ordering::Relaxed);
                sums.1 += bucket.failures.load(Ordering::Relaxed);
                sums.2 += bucket.replies_5xx.load(Ordering::Relaxed);
            }
        }
        sums
    }
}

#[cfg(test)]
mod tests;
