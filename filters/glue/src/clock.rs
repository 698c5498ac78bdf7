//! The host clock, the only time a filter has: proxy-wasm gives a guest no clock of its own,
//! and `wasmesh-common` takes time as plain numbers so its rules stay testable.

use std::time::{Duration, UNIX_EPOCH};

use proxy_wasm::hostcalls;

/// Host time in unix milliseconds (the unit of the shared health document and of the
/// discovery and failover schedules); 0 if the host fails to say or reports a time before
/// 1970.
pub fn now_ms() -> u64 {
    since_epoch().map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Host time in unix nanoseconds (latencies, the token buckets, peak-EWMA's decay); 0 if the
/// host fails to say or reports a time before 1970.
pub fn now_ns() -> u64 {
    since_epoch().map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

fn since_epoch() -> Option<Duration> {
    hostcalls::get_current_time()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
}
