//! Waiting for something to become true without sleeping for a guessed time.

use std::time::{Duration, Instant};

/// How often a condition is re-checked: short, so waits end soon after the condition holds.
pub(crate) const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// Calls `check` until it returns `Some`, or panics after `timeout` naming `what` and the last
/// reason `check` gave (`Err(reason)` means "not yet, because ...").
pub fn poll_until<T>(
    what: &str,
    timeout: Duration,
    mut check: impl FnMut() -> Result<T, String>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        match check() {
            Ok(value) => return value,
            Err(reason) if Instant::now() >= deadline => {
                panic!("timed out after {timeout:?} waiting for {what}: {reason}")
            }
            Err(_) => std::thread::sleep(POLL_INTERVAL),
        }
    }
}
