//! The last reloads, kept for the admin's live view: when, which generation served after it,
//! and why a rejected one was rejected. `/config` only shows the last error; an operator who
//! saw a rollout go wrong wants the sequence.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::Serialize;

/// How many reloads are kept (the oldest go first).
pub const KEPT: usize = 20;

/// One reload (or the start).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReloadRecord {
    /// When it finished, unix ms.
    pub at_ms: u64,
    /// The generation serving after it: the new one, or the one that kept serving.
    pub generation: u64,
    /// Whether it took effect.
    pub ok: bool,
    /// Why it was rejected.
    pub error: Option<String>,
}

/// The last [`KEPT`] reloads.
#[derive(Default)]
pub struct ReloadHistory {
    records: Mutex<VecDeque<ReloadRecord>>,
}

impl ReloadHistory {
    /// Records a reload that left `generation` serving; `error` when it was rejected.
    pub fn record(&self, generation: u64, error: Option<String>) {
        let at_ms = wasmesh_host::embedder::system_now_nanos() / 1_000_000;
        let mut records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        if records.len() == KEPT {
            records.pop_front();
        }
        records.push_back(ReloadRecord {
            at_ms,
            generation,
            ok: error.is_none(),
            error,
        });
    }

    /// The kept reloads, newest first.
    pub fn newest_first(&self) -> Vec<ReloadRecord> {
        let records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        records.iter().rev().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_reloads_newest_first() {
        let history = ReloadHistory::default();
        for generation in 1..=(KEPT as u64 + 2) {
            history.record(generation, None);
        }
        history.record(KEPT as u64 + 2, Some("plugin \"x\": no such file".into()));
        let records = history.newest_first();
        assert_eq!(records.len(), KEPT);
        assert_eq!(
            (
                records[0].generation,
                records[0].ok,
                records[0].error.as_deref()
            ),
            (KEPT as u64 + 2, false, Some("plugin \"x\": no such file"))
        );
        assert_eq!(records[1].generation, KEPT as u64 + 2);
        assert!(records[1].ok);
        assert_eq!(records[KEPT - 1].generation, 4);
    }
}
