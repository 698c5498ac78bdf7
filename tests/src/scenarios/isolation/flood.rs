//! The misbehave guest's `flood-shared-data` and `flood-metrics` cases: a filter that writes
//! state under fresh names until the host refuses. Helpers to drive them in either host and to
//! read what a user would check (the guest's own count, the host's memory, its metrics).

use serde_json::Value;

use super::{Isolation, HEADER};
use crate::Proxy;

/// What one flood request answered: writes that succeeded, the status of the first refused one
/// (`None`: none was refused) and whether the first key or metric was still there afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flood {
    /// Keys stored or metrics defined.
    pub done: u64,
    /// Raw proxy-wasm status of the refused write.
    pub refused_status: Option<u64>,
    /// `misbehave_flood_0` could still be read (shared data) or looked up (metrics).
    pub first_there: bool,
}

impl Isolation {
    /// Sends `case` (`flood-shared-data` or `flood-metrics`) on `listener`, writing at most
    /// `count` names from index `start` (shared data: values of `value_bytes` bytes); panics
    /// unless the guest answered 200 with its report.
    pub fn flood(
        &self,
        listener: &str,
        case: &str,
        start: u64,
        count: u64,
        value_bytes: usize,
    ) -> Flood {
        let (start, count, bytes) = (
            start.to_string(),
            count.to_string(),
            value_bytes.to_string(),
        );
        let headers = [
            (HEADER, case),
            ("x-flood-start", start.as_str()),
            ("x-flood-count", count.as_str()),
            ("x-flood-bytes", bytes.as_str()),
        ];
        let response = self
            .client
            .get(&self.proxy.url(listener, "/flood"), &headers);
        assert_eq!(
            response.status,
            200,
            "{case} on {listener}: the guest should answer its count: {}",
            response.text()
        );
        let report = response.json();
        let done = report
            .get("stored")
            .or_else(|| report.get("defined"))
            .and_then(Value::as_u64);
        Flood {
            done: done.unwrap_or_else(|| panic!("{case}: no count in {report}")),
            refused_status: report["refused_status"].as_u64(),
            first_there: report["first_there"] == Value::Bool(true),
        }
    }
}

/// The proxy's resident memory in KiB (`VmRSS` of `/proc/<pid>/status`).
pub fn rss_kib(proxy: &Proxy) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", proxy.pid()))
        .expect("reading the proxy's /proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no VmRSS in:\n{status}"))
}
