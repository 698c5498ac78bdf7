//! A proxy's memory and open files over a scenario, read from `/proc` every [`PERIOD`] on a
//! thread of its own, so the clients' work never delays a reading.
//!
//! `VmRSS` sampled this way can miss a spike shorter than the period, so the kernel's own
//! high-water mark (`VmHWM`) is reset right before the scenario ([`reset_peak`]) and read at its
//! end: a peak no sample can miss. The open-file count shows when the proxy let go of the
//! clients' connections (and its upstream ones), which a client that does not read cannot see:
//! a proxy's close reaches it only after the bytes queued before it.

use std::fs;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::machine::rss_kib;
use crate::memory::clock::Clock;

/// How often the proxy is read.
pub const PERIOD: Duration = Duration::from_millis(50);

/// One reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Point {
    /// Since the scenario's start.
    pub at: Duration,
    /// `VmRSS`, KiB.
    pub rss_kib: u64,
    /// Entries of `/proc/<pid>/fd`: sockets, mostly.
    pub fds: usize,
}

/// Reads a process every [`PERIOD`] until finished.
pub struct Sampler {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Vec<Point>>>,
}

impl Sampler {
    /// Starts reading `pid`, timed by `clock`: the first reading is taken before this returns,
    /// so even a scenario shorter than [`PERIOD`] has one.
    pub fn start(pid: u32, clock: Clock) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let first = read(pid, clock);
        let thread = std::thread::spawn({
            let stop = stop.clone();
            move || {
                let mut points: Vec<Point> = first.into_iter().collect();
                let mut next = Duration::ZERO;
                while !stop.load(Ordering::Relaxed) {
                    next += PERIOD;
                    std::thread::sleep(clock.until(next));
                    match read(pid, clock) {
                        Some(point) => points.push(point),
                        None => break, // the process is gone
                    }
                }
                points
            }
        });
        Self {
            stop,
            thread: Some(thread),
        }
    }

    /// Stops and returns every reading.
    pub fn finish(mut self) -> Trace {
        self.stop.store(true, Ordering::Relaxed);
        let thread = self.thread.take().expect("finished once");
        Trace {
            points: thread.join().unwrap_or_default(),
        }
    }
}

impl Drop for Sampler {
    /// A scenario that failed never calls [`Sampler::finish`]: its thread stops all the same.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Resets the process's `VmHWM` to its current RSS (`5` to `/proc/<pid>/clear_refs`, Linux ≥
/// 4.0); `false` if the kernel refused, and `VmHWM` then still counts from the start.
pub fn reset_peak(pid: u32) -> bool {
    fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok()
}

/// One reading of `pid`; `None` once it has exited.
fn read(pid: u32, clock: Clock) -> Option<Point> {
    Some(Point {
        at: clock.now(),
        rss_kib: rss_kib(pid)?,
        fds: open_files(pid)?,
    })
}

/// The number of open file descriptors of `pid`; `None` once it has exited.
fn open_files(pid: u32) -> Option<usize> {
    Some(fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count())
}

/// Every reading of one scenario.
#[derive(Debug, Clone, Default)]
pub struct Trace {
    /// In time order.
    pub points: Vec<Point>,
}

/// What the open-file count did during a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Files {
    /// The most open at once, over the first reading.
    pub peak_extra: usize,
    /// When the count fell back to a quarter of that peak or less, if it did before the end.
    pub released_at: Option<Duration>,
}

impl Trace {
    /// The reading with the highest RSS up to `end` (the scenario's end), the first if tied.
    pub fn peak_until(&self, end: Duration) -> Option<Point> {
        self.points
            .iter()
            .filter(|p| p.at <= end)
            .fold(None, |best: Option<Point>, p| match best {
                Some(b) if b.rss_kib >= p.rss_kib => Some(b),
                _ => Some(*p),
            })
    }

    /// The open-file count's rise over the first reading, and when the proxy let most of it go
    /// before `end`: the first reading after the peak with at most a quarter of the rise left
    /// (the proxy closing the clients' connections and its upstream ones together).
    pub fn files_until(&self, end: Duration) -> Option<Files> {
        let during: Vec<&Point> = self.points.iter().filter(|p| p.at <= end).collect();
        let base = during.first()?.fds;
        let (peak_index, peak) = during
            .iter()
            .enumerate()
            .max_by_key(|(i, p)| (p.fds, std::cmp::Reverse(*i)))?;
        let peak_extra = peak.fds.saturating_sub(base);
        let released_at = (peak_extra > 0)
            .then(|| {
                during[peak_index..]
                    .iter()
                    .find(|p| p.fds.saturating_sub(base) * 4 <= peak_extra)
                    .map(|p| p.at)
            })
            .flatten();
        Some(Files {
            peak_extra,
            released_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trace(points: &[(u64, u64, usize)]) -> Trace {
        Trace {
            points: points
                .iter()
                .map(|&(ms, rss_kib, fds)| Point {
                    at: Duration::from_millis(ms),
                    rss_kib,
                    fds,
                })
                .collect(),
        }
    }

    #[test]
    fn the_peak_is_the_highest_reading_before_the_end() {
        let t = trace(&[(0, 10, 5), (50, 30, 5), (100, 30, 5), (150, 90, 5)]);
        let end = Duration::from_millis(120);
        let peak = t.peak_until(end).unwrap();
        assert_eq!((peak.rss_kib, peak.at), (30, Duration::from_millis(50)));
        assert_eq!(Trace::default().peak_until(end), None);
    }

    #[test]
    fn files_released_when_a_quarter_of_the_rise_is_left() {
        let t = trace(&[
            (0, 1, 10),
            (50, 1, 110),
            (100, 1, 210),
            (150, 1, 100),
            (200, 1, 40),
            (250, 1, 12),
        ]);
        let files = t.files_until(Duration::from_secs(1)).unwrap();
        assert_eq!(files.peak_extra, 200);
        assert_eq!(files.released_at, Some(Duration::from_millis(200)));
        let held = t.files_until(Duration::from_millis(150)).unwrap();
        assert_eq!(held.released_at, None);
        let flat = trace(&[(0, 1, 10), (50, 1, 10)]);
        let files = flat.files_until(Duration::from_secs(1)).unwrap();
        assert_eq!((files.peak_extra, files.released_at), (0, None));
    }
}
