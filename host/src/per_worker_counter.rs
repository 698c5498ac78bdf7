//! A counter every worker adds to on a cache line of its own, summed when read (as Envoy's
//! thread-local stats): the request path of one worker never writes a line another worker
//! writes, where one shared atomic would bounce between every core on every request.

use std::sync::atomic::{AtomicU64, Ordering};

/// Workers with a line of their own; more share lines (still correct, only slower).
const LINES: usize = 64;

/// One worker's count, alone on its cache line.
#[repr(align(64))]
#[derive(Default)]
struct Line(AtomicU64);

/// The counter.
pub struct PerWorkerCounter {
    lines: Box<[Line]>,
}

impl Default for PerWorkerCounter {
    fn default() -> Self {
        PerWorkerCounter {
            lines: (0..LINES).map(|_| Line::default()).collect(),
        }
    }
}

impl PerWorkerCounter {
    /// Adds one for worker `worker`.
    pub fn increment(&self, worker: usize) {
        self.lines[worker % LINES].0.fetch_add(1, Ordering::Relaxed);
    }

    /// The total over every worker.
    pub fn total(&self) -> u64 {
        self.lines.iter().map(|l| l.0.load(Ordering::Relaxed)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_sum_over_workers_each_on_its_own_line() {
        let counter = PerWorkerCounter::default();
        for worker in [0, 1, 1, 5, LINES + 1] {
            counter.increment(worker);
        }
        assert_eq!(counter.total(), 5);
        assert_eq!(std::mem::align_of::<Line>(), 64);
        assert_eq!(
            counter.lines[1].0.load(Ordering::Relaxed),
            3,
            "worker 65 shares line 1"
        );
    }
}
