//! What the figures were measured on: they only mean something next to the machine and its load.

use std::fs;

/// The machine, and its load when read.
pub struct Machine {
    /// Logical CPUs the bench may use.
    pub cpus: usize,
    /// `model name` from `/proc/cpuinfo`.
    pub cpu_model: String,
    /// The 1, 5 and 15 minute load averages from `/proc/loadavg`.
    pub load: String,
}

impl Machine {
    /// Reads `/proc`; fields it cannot read say so instead of failing the bench.
    pub fn read() -> Self {
        let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
        let cpu_model = fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|text| {
                text.lines()
                    .find(|line| line.starts_with("model name"))
                    .and_then(|line| line.split_once(':'))
                    .map(|(_, model)| model.trim().to_string())
            })
            .unwrap_or_else(|| "unknown".into());
        let load = fs::read_to_string("/proc/loadavg")
            .map(|text| {
                text.split_whitespace()
                    .take(3)
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_else(|_| "unknown".into());
        Self {
            cpus,
            cpu_model,
            load,
        }
    }
}

/// The peak resident set size (`VmHWM`, KiB) of process `pid`, from `/proc/<pid>/status`.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    status_kib(pid, "VmHWM:")
}

/// The resident set size now (`VmRSS`, KiB) of process `pid`: read right after `/ready`, it is
/// what the loaded configuration (VMs included) occupies before any request.
pub fn rss_kib(pid: u32) -> Option<u64> {
    status_kib(pid, "VmRSS:")
}

/// One `<field> <n> kB` line of `/proc/<pid>/status`.
fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
