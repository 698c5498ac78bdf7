//! What each stream waits for, in time: its overall request deadline and, while a retry backs
//! off, the moment that retry is due.
//!
//! A proxy-wasm stream context has no timer of its own; only the root context ticks. So the
//! filter keeps every stream's times here, and the root's tick asks [`Schedule::take_due`] what
//! to act on and [`Schedule::tick_period_ms`] how soon to tick again: fast only while something
//! is close, so an idle or steady worker ticks slowly.

use std::collections::{BTreeMap, BTreeSet};

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
    deadlines: Timetable,
    retries: Timetable,
}

impl Schedule {
    /// Stream `id` must be answered by `at_ms`.
    pub fn set_deadline(&mut self, id: u32, at_ms: u64) {
        self.deadlines.set(id, at_ms);
    }

    /// Stream `id`'s retry is to be sent at `at_ms`.
    pub fn set_retry(&mut self, id: u32, at_ms: u64) {
        self.retries.set(id, at_ms);
    }

    /// Stream `id` is answered (or gone): nothing more is owed to it.
    pub fn forget(&mut self, id: u32) {
        self.deadlines.remove(id);
        self.retries.remove(id);
    }

    /// Whether anything is scheduled.
    pub fn is_empty(&self) -> bool {
        self.deadlines.is_empty() && self.retries.is_empty()
    }

    /// Removes and returns what is due at `now_ms`: timeouts first, and a stream that timed
    /// out loses its pending retry (it is answered already). Each kind comes earliest first.
    pub fn take_due(&mut self, now_ms: u64) -> Vec<Due> {
        let expired = self.deadlines.take_due(now_ms);
        for &id in &expired {
            self.retries.remove(id);
        }
        let ready = self.retries.take_due(now_ms);
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
        let close =
            !self.retries.is_empty() || self.deadlines.earliest().is_some_and(|at| at < soon);
        if close {
            fast_ms
        } else {
            slow_ms
        }
    }
}

/// One time per stream, kept in time order as well: every request asks for the earliest
/// deadline (to set the tick) and every tick for the due ones, and a worker may have
/// thousands of streams in flight, so neither may look at every stream.
#[derive(Debug, Default, Clone)]
struct Timetable {
    by_stream: BTreeMap<u32, u64>,
    by_time: BTreeSet<(u64, u32)>,
}

impl Timetable {
    /// Stream `id`'s time is `at_ms` (in place of any before).
    fn set(&mut self, id: u32, at_ms: u64) {
        if let Some(before) = self.by_stream.insert(id, at_ms) {
            self.by_time.remove(&(before, id));
        }
        self.by_time.insert((at_ms, id));
    }

    /// Stream `id` has no time any more.
    fn remove(&mut self, id: u32) {
        if let Some(at) = self.by_stream.remove(&id) {
            self.by_time.remove(&(at, id));
        }
    }

    fn is_empty(&self) -> bool {
        self.by_stream.is_empty()
    }

    /// The earliest time of any stream.
    fn earliest(&self) -> Option<u64> {
        self.by_time.first().map(|&(at, _)| at)
    }

    /// Removes and returns the streams whose time is `now_ms` or earlier, earliest first.
    fn take_due(&mut self, now_ms: u64) -> Vec<u32> {
        let mut due = Vec::new();
        while let Some(&(at, id)) = self.by_time.first() {
            if at > now_ms {
                break;
            }
            self.by_time.pop_first();
            self.by_stream.remove(&id);
            due.push(id);
        }
        due
    }
}

#[cfg(test)]
mod tests;
