//! The host clock as the nanoseconds `wasmesh_common::lb` takes.

use std::time::UNIX_EPOCH;

use proxy_wasm::hostcalls;

/// Host time in unix nanoseconds; 0 if the host reports a time before 1970 or fails (the
/// latency estimate then sees no time passing, which only slows its decay).
pub fn now_ns() -> u64 {
    hostcalls::get_current_time()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}
