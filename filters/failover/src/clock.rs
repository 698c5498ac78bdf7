//! The host clock in unix milliseconds: the unit of the shared health document, which `lb`
//! reads against the same host clock.

use std::time::UNIX_EPOCH;

use proxy_wasm::hostcalls;

/// Host time in unix ms; 0 if the host cannot tell (nothing is then ever ejected for long).
pub fn now_ms() -> u64 {
    hostcalls::get_current_time()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
