//! The per-callback time cap, counted in CPU time of the worker thread rather than wall-clock
//! time, so a host starved of CPU (a busy machine, a noisy neighbour) does not kill healthy
//! filters whose callback merely waited for a core.
//!
//! It rides on wasmtime's epoch interruption and costs nothing on the fast path: a callback
//! starts with a wall-clock deadline of `cap`. Only if that passes does the deadline callback
//! read the thread's CPU clock, and from then on, every `cap / 4`, it checks how much CPU the
//! callback has burnt since: at `cap / 2` it is interrupted. So a spinning filter is cut after
//! about 1.5 × `cap`, and a filter that ran 1 ms but waited 200 ms for a core is left alone.

use std::time::Duration;

use nix::time::{clock_gettime, ClockId};
use wasmtime::UpdateDeadline;

/// How often the engine's epoch advances (`crate::runtime::Runtime` runs the ticker); callback
/// deadlines are counted in these ticks.
pub const EPOCH_TICK: Duration = Duration::from_millis(5);

/// One callback's budget, kept in the store's data.
#[derive(Debug, Default, Clone, Copy)]
pub struct TimeCap {
    /// The cap for the callback running now.
    cap: Duration,
    /// Thread CPU time when the wall-clock deadline first passed (`None` before that).
    cpu_mark: Option<Duration>,
}

impl TimeCap {
    /// Arms the cap for a new callback; returns the first deadline, in epoch ticks.
    pub fn start(&mut self, cap: Duration) -> u64 {
        self.cap = cap;
        self.cpu_mark = None;
        ticks(cap)
    }

    /// The epoch deadline passed: keep going (and when to look again) or interrupt.
    pub fn on_deadline(&mut self) -> UpdateDeadline {
        let now = thread_cpu_time();
        let check_every = ticks(self.cap / 4);
        match self.cpu_mark {
            None => {
                self.cpu_mark = Some(now);
                UpdateDeadline::Continue(check_every)
            }
            Some(mark) if now.saturating_sub(mark) >= self.cap / 2 => UpdateDeadline::Interrupt,
            Some(_) => UpdateDeadline::Continue(check_every),
        }
    }
}

/// `duration` in epoch ticks, at least one.
fn ticks(duration: Duration) -> u64 {
    let tick = EPOCH_TICK.as_micros().max(1);
    (duration.as_micros().div_ceil(tick) as u64).max(1)
}

/// CPU time the calling thread has used; zero if the clock cannot be read (then the cap
/// never fires on CPU grounds, and a spinning filter would run on: logged, never expected
/// on Linux).
pub fn thread_cpu_time() -> Duration {
    match clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID) {
        Ok(spec) => Duration::new(spec.tv_sec() as u64, spec.tv_nsec() as u32),
        Err(e) => {
            log::error!("reading the thread CPU clock: {e}");
            Duration::ZERO
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spin_for(cpu: Duration) {
        let start = thread_cpu_time();
        while thread_cpu_time() - start < cpu {
            std::hint::black_box(0u64);
        }
    }

    #[test]
    fn a_waiting_callback_is_left_alone_and_a_spinning_one_is_cut() {
        let mut cap = TimeCap::default();
        let first = cap.start(Duration::from_millis(40));
        assert_eq!(first, ticks(Duration::from_millis(40)));
        // Wall-clock deadline passed while the thread slept: no CPU burnt, keep going.
        assert!(matches!(cap.on_deadline(), UpdateDeadline::Continue(_)));
        std::thread::sleep(Duration::from_millis(30));
        assert!(matches!(cap.on_deadline(), UpdateDeadline::Continue(_)));
        // Now it burns CPU past half the cap.
        spin_for(Duration::from_millis(25));
        assert!(matches!(cap.on_deadline(), UpdateDeadline::Interrupt));
        // A new callback starts afresh.
        cap.start(Duration::from_millis(40));
        assert!(matches!(cap.on_deadline(), UpdateDeadline::Continue(_)));
    }
}
