//! Decimal counters in shared data, incremented with CAS so every worker's ticks and queue
//! items are counted (the `timer` and `queue-read` cases read them back).

use proxy_wasm::hostcalls;
use proxy_wasm::types::Status;

/// Rounds of read-add-write before giving up on a key other workers keep changing.
const MAX_ATTEMPTS: usize = 16;

/// Adds `by` to the counter at `key` (absent counts as 0); returns the new value.
pub fn add(key: &str, by: u64) -> Result<u64, Status> {
    for _ in 0..MAX_ATTEMPTS {
        let (value, cas) = hostcalls::get_shared_data(key)?;
        let next = parse(value.as_deref()).saturating_add(by);
        match hostcalls::set_shared_data(key, Some(next.to_string().as_bytes()), cas) {
            Ok(()) => return Ok(next),
            Err(Status::CasMismatch) => continue,
            Err(status) => return Err(status),
        }
    }
    Err(Status::CasMismatch)
}

/// The counter at `key`, `None` when it was never written.
pub fn read(key: &str) -> Result<Option<u64>, Status> {
    let (value, _cas) = hostcalls::get_shared_data(key)?;
    Ok(value.map(|v| parse(Some(&v))))
}

fn parse(value: Option<&[u8]>) -> u64 {
    value
        .and_then(|v| std::str::from_utf8(v).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}
