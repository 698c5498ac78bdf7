//! The clock every callback is timed with, for its plugin's histogram
//! (`wasmesh_plugin_callback_seconds`). A start and an end read per callback, twenty-odd
//! callbacks per request with three filters: through `Instant::now` (the vDSO's
//! `clock_gettime`) those reads were the largest host cost of a callback. quanta reads the
//! CPU's time-stamp counter where it is invariant, scaled by a calibration against the
//! monotonic clock made once per process, and reads the monotonic clock elsewhere.

use std::sync::OnceLock;
use std::time::Duration;

/// Times callbacks: [`CallbackClock::mark`] before, [`CallbackClock::since`] after.
#[derive(Debug, Clone)]
pub struct CallbackClock(quanta::Clock);

impl CallbackClock {
    /// The process's clock (calibrated on first use, which takes about a millisecond).
    pub fn new() -> Self {
        static CLOCK: OnceLock<quanta::Clock> = OnceLock::new();
        Self(CLOCK.get_or_init(quanta::Clock::new).clone())
    }

    /// A raw reading, meaningful only to [`CallbackClock::since`].
    pub fn mark(&self) -> u64 {
        self.0.raw()
    }

    /// The time since `mark` (zero if the counter reads earlier, as a thread moved between
    /// cores whose counters differ might see).
    pub fn since(&self, mark: u64) -> Duration {
        self.0.delta(mark, self.0.raw())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sleep_measures_about_its_length() {
        let clock = CallbackClock::new();
        let mark = clock.mark();
        std::thread::sleep(Duration::from_millis(20));
        let took = clock.since(mark);
        assert!(
            took >= Duration::from_millis(19) && took < Duration::from_secs(2),
            "{took:?} for a 20 ms sleep"
        );
    }
}
