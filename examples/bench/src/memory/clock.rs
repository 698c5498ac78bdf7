//! Times in a scenario's outcome, counted from the scenario's start: the same zero as the RSS
//! samples', so "cut at 3.0 s" and "peak at 2.9 s" can be read side by side.

use std::time::{Duration, Instant};

/// The scenario's start.
#[derive(Debug, Clone, Copy)]
pub struct Clock(Instant);

impl Clock {
    /// Starts counting now.
    pub fn start() -> Self {
        Self(Instant::now())
    }

    /// Since the start.
    pub fn now(self) -> Duration {
        self.0.elapsed()
    }

    /// When `at` passes (from the start).
    pub fn until(self, at: Duration) -> Duration {
        (self.0 + at).saturating_duration_since(Instant::now())
    }
}

/// `2.95 s`: the form every time in the report takes.
pub fn secs(at: Duration) -> String {
    format!("{:.2} s", at.as_secs_f64())
}
