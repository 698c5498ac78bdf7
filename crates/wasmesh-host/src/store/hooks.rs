//! What an embedder may put in place of the process's own log and clock in a plugin's VMs.
//! The proxy uses neither (guest lines go to the host's log, time is the system's); a test
//! harness captures each VM's log lines to assert on them and sets the time the guest reads,
//! so a rate limiter's refill or an ejection's expiry is tested without waiting.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// The system's wall clock in nanoseconds since the Unix epoch (0 before 1970): what a guest
/// reads when no hook replaces it.
pub fn system_now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// Receives each guest log line (`proxy_log`, WASI stdout/stderr) with its level.
pub type LogSink = Arc<dyn Fn(log::Level, &str) + Send + Sync>;

/// Answers the current time in Unix nanoseconds.
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// Replacements for one plugin's VMs; `None` keeps the process's own.
#[derive(Clone, Default)]
pub struct VmHooks {
    /// Where guest log lines go instead of the host's log. It receives every level: the guest
    /// is told the level is trace (`proxy_get_log_level`).
    pub log: Option<LogSink>,
    /// The wall clock the guest reads (`proxy_get_current_time_nanoseconds`, WASI realtime).
    pub clock: Option<Clock>,
}

impl VmHooks {
    /// The wall-clock time the guest sees, in Unix nanoseconds.
    pub fn now_nanos(&self) -> u64 {
        match &self.clock {
            Some(clock) => clock(),
            None => system_now_nanos(),
        }
    }
}
