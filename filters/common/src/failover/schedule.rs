//! What each stream waits for, in time: its overall request deadline and, while a retry backs
//! off, the moment that retry is due.
//!
//! A proxy-wasm stream context has no timer of its own; only the root context ticks. So the
//! filter keeps every stream's times here, and the root's tick asks [`Schedule::take_due`] what
//! to act on and [`Schedule::tick_period_ms`] how soon to tick again: fast only while something
//! is close, so an idle or steady worker ticks slowly.

use std::collections::BTreeMap;

/// Something a stream is owed now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// The stream's overall deadline passed: answer it 504.
    Timeout(u32),
    /// The stream's backoff ended: send its retry.
    Retry(u32),
}

/// Deadlines and due retries by stream (context id); times in ms of one clock.
#[derive(Debug, Default, Clone)]
pub struct Schedule {
    deadlines: BTreeMap<u32, u64>,
    retries: BTreeMap<u32, u64>,
}

impl Schedule {
    /// Stream `id` must be answered by `at_ms`.
    pub fn set_deadline(&mut self, id: u32, at_ms: u64) {
        self.deadlines.insert(id, at_ms);
    }

    /// Stream `id`'s retry is to be sent at `at_ms`.
    pub fn set_retry(&mut self, id: u32, at_ms: u64) {
        self.retries.insert(id, at_ms);
    }

    /// Stream `id` is answered (or gone): nothing more is owed to it.
    pub fn forget(&mut self, id: u32) {
        self.deadlines.remove(&id);
        self.retries.remove(&id);
    }

    /// Whether anything is scheduled.
    pub fn is_empty(&self) -> bool {
        self.deadlines.is_empty() && self.retries.is_empty()
    }

    /// Removes and returns what is due at `now_ms`: timeouts first, and a stream that timed
    /// out loses its pending retry (it is answered already).
    pub fn take_due(&mut self, now_ms: u64) -> Vec<Due> {
        let expired: Vec<u32> = due_ids(&self.deadlines, now_ms);
        for id in &expired {
            self.forget(*id);
        }
        let ready: Vec<u32> = due_ids(&self.retries, now_ms);
        for id in &ready {
            self.retries.remove(id);
        }
        expired
            .into_iter()
            .map(Due::Timeout)
            .chain(ready.into_iter().map(Due::Retry))
            .collect()
    }

    /// The next tick period: `fast_ms` while a retry waits or a deadline is less than
    /// `slow_ms` away, else `slow_ms` (enough for a deadline further than that).
    pub fn tick_period_ms(&self, now_ms: u64, slow_ms: u64, fast_ms: u64) -> u64 {
        let soon = now_ms.saturating_add(slow_ms);
        let close = !self.retries.is_empty() || self.deadlines.values().any(|&at| at < soon);
        if close {
            fast_ms
        } else {
            slow_ms
        }
    }
}

fn due_ids(times: &BTreeMap<u32, u64>, now_ms: u64) -> Vec<u32> {
    times
        .iter()
        .filter(|(_, &at)| at <= now_ms)
        .map(|(&id, _)| id)
        .collect()
}

#[cfg(test)]
mod tests;
