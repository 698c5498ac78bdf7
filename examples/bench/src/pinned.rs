//! One measurement of a process that had a core of its own (a proxy pinned with `taskset`, or
//! the relay's thread) under a load generator, shared by the `tls` and `tcp` modes: what the
//! load generator saw, the CPU the process spent, and the table both modes print.

use crate::cpu::Spent;
use crate::stats::Summary;
use crate::table::{column, ms};
use crate::wrk::WrkResult;

/// One measurement of one case.
#[derive(Debug, Clone)]
pub struct Sample {
    /// What the load generator measured (wrk, or the handshake client in wrk's terms).
    pub wrk: WrkResult,
    /// CPU time the measured process spent during the measured run (not the warm-up).
    pub cpu: Option<Spent>,
    /// How long the measured run lasted.
    pub seconds: f64,
}

impl Sample {
    /// The share of one core the process used during the measurement, in percent: near 100
    /// with a process on a core of its own means it was the limit.
    pub fn busy_percent(&self) -> Option<f64> {
        let ticks = self.cpu?.ticks as f64;
        Some(100.0 * ticks / (crate::cpu::ticks_per_sec() as f64 * self.seconds))
    }

    /// The process's CPU microseconds per request: with one load generator on a small machine
    /// the client may be what limits requests/s, and then this is the figure that compares.
    pub fn cpu_us_per_request(&self) -> Option<f64> {
        self.cpu?.micros_per_request(self.wrk.requests)
    }

    /// The progress line's CPU part (empty when `/proc` could not tell).
    pub fn cpu_note(&self) -> String {
        match (self.cpu_us_per_request(), self.busy_percent()) {
            (Some(us), Some(busy)) => format!("  cpu {us:>6.1} us/req, {busy:>3.0} % busy"),
            _ => String::new(),
        }
    }
}

/// The table of cases: requests/s, p50, p99, CPU per request, busy share, errors.
pub fn print_table<'a>(rows: impl Iterator<Item = (String, &'a [Sample])>) {
    println!(
        "{:<38} {:>24} {:>20} {:>22} {:>22} {:>16} {:>7}",
        "case", "requests/s", "p50 ms", "p99 ms", "cpu us/request", "busy %", "errors"
    );
    for (label, samples) in rows {
        println!(
            "{:<38} {:>24} {:>20} {:>22} {:>22} {:>16} {:>7}",
            label,
            column(samples, |s| Some(s.wrk.requests_per_sec), 0),
            column(samples, |s| Some(ms(s.wrk.p50)), 2),
            column(samples, |s| Some(ms(s.wrk.p99)), 2),
            column(samples, Sample::cpu_us_per_request, 1),
            column(samples, Sample::busy_percent, 0),
            samples.iter().map(|s| s.wrk.errors).sum::<u64>(),
        );
    }
}

/// The median of `figure` over `samples`.
pub fn median(samples: &[Sample], figure: fn(&Sample) -> Option<f64>) -> Option<f64> {
    Summary::of(samples.iter().filter_map(figure)).map(|s| s.median)
}
