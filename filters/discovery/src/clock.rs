//! The host clock as the milliseconds `wasmesh_common::discovery` takes.

use std::time::UNIX_EPOCH;

use proxy_wasm::hostcalls;

/// Host time in unix milliseconds; 0 if the host fails to say (polls then run on every tick
/// until it does, which is harmless).
pub fn now_ms() -> u64 {
    hostcalls::get_current_time()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
