//! The host clock, the only time a filter has: proxy-wasm gives a guest no clock of its own,
//! and `wasmesh-common` takes time as plain numbers so its rules stay testable.

use crate::abi::current_time_ns;

/// Host time in unix milliseconds (the unit of the shared health document and of the
/// discovery and failover schedules); 0 if the host fails to say.
pub fn now_ms() -> u64 {
    now_ns() / 1_000_000
}

/// Host time in unix nanoseconds (latencies, the token buckets, peak-EWMA's decay); 0 if the
/// host fails to say.
pub fn now_ns() -> u64 {
    current_time_ns().unwrap_or(0)
}
