//! Scenario `key-flood`: `ratelimit` keyed on `x-client` (1 token/s, burst 1) and `--keys`
//! (20 000) requests, each with a fresh 8 KB `x-client` value, sent as fast as
//! `--flood-connections` (4) keep-alive connections allow, one request at a time on each. A
//! limiter that kept a bucket per key would grow by every key; the filter's fixed slot table
//! (`max_keys` 10 000, in both hosts) should not.
//!
//! What the client saw: the status counts (200 through, 429 limited or store full; a 503 would
//! be the filter failing) and how fast the flood went; the filter's own counters are read from
//! the admin's `/stats/prometheus` afterwards.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use wasmesh_contract::exposition;

use crate::memory::clock::{secs, Clock};
use crate::memory::http1::Connection;
use crate::memory::scenarios::KEY_HEADER;
use crate::probe;
use crate::table::thousands;

/// Each `x-client` value's length: the 8 KB.
const KEY_BYTES: usize = 8 * 1024;
/// Each connect, write and read's time limit.
const IO_LIMIT: Duration = Duration::from_secs(5);
/// The whole flood's: what is not sent by then is not sent.
const FLOOD_LIMIT: Duration = Duration::from_secs(90);
/// The filter's counters shown after the flood.
const COUNTERS: [&str; 3] = [
    "ratelimit_allowed_total",
    "ratelimit_limited_total",
    "ratelimit_store_full_total",
];

/// What one connection's share of the flood got.
#[derive(Debug, Default)]
struct Tally {
    statuses: BTreeMap<u16, u64>,
    /// Requests that got no response (the connection is then opened again).
    failures: u64,
    /// The first failure's reason.
    first_failure: Option<String>,
}

/// Floods `addr` with fresh keys, then reads the filter's counters from `admin`.
pub fn run(
    addr: SocketAddr,
    admin: SocketAddr,
    keys: u32,
    connections: u32,
    clock: Clock,
) -> anyhow::Result<String> {
    let tallies: Vec<Tally> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..connections)
            .map(|c| {
                scope.spawn(move || flood((c..keys).step_by(connections as usize), addr, clock))
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_default())
            .collect()
    });
    let took = clock.now();
    let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
    let (mut failures, mut first_failure) = (0, None);
    for tally in tallies {
        for (status, n) in tally.statuses {
            *statuses.entry(status).or_default() += n;
        }
        failures += tally.failures;
        first_failure = first_failure.or(tally.first_failure);
    }
    let answered: u64 = statuses.values().sum();
    let mut parts = vec![format!(
        "{} answered in {} ({}/s)",
        thousands(answered as f64),
        secs(took),
        thousands(answered as f64 / took.as_secs_f64())
    )];
    let counts: Vec<String> = statuses
        .iter()
        .map(|(status, n)| format!("{status} × {}", thousands(*n as f64)))
        .collect();
    parts.push(counts.join(", "));
    if failures > 0 {
        parts.push(format!(
            "{failures} without an answer ({})",
            first_failure.unwrap_or_default()
        ));
    }
    if let Ok(stats) = probe::admin_text("key flood", admin, "/stats/prometheus") {
        let counters: Vec<String> = COUNTERS
            .iter()
            .filter_map(|name| {
                let value = exposition::value(&stats, name, &[])?;
                Some(format!(
                    "{} {}",
                    name.trim_start_matches("ratelimit_"),
                    thousands(value)
                ))
            })
            .collect();
        parts.push(format!("filter: {}", counters.join(", ")));
    }
    Ok(parts.join("; "))
}

/// Sends one request per key in `keys` on one keep-alive connection (opened again whenever the
/// proxy ends it), until done or [`FLOOD_LIMIT`].
fn flood(keys: impl Iterator<Item = u32>, addr: SocketAddr, clock: Clock) -> Tally {
    let mut tally = Tally::default();
    let mut connection: Option<Connection> = None;
    for key in keys {
        if clock.now() > FLOOD_LIMIT {
            break;
        }
        let request = request_for(key);
        let answer = match connection.take() {
            Some(c) => Ok(c),
            None => Connection::open(addr, IO_LIMIT).map_err(|e| format!("connecting: {e}")),
        }
        .and_then(|mut c| {
            c.send(&request).map_err(|e| format!("writing: {e}"))?;
            let head = c.read_response()?;
            Ok((c, head))
        });
        match answer {
            Ok((c, head)) => {
                *tally.statuses.entry(head.status).or_default() += 1;
                if !head.close {
                    connection = Some(c);
                }
            }
            Err(why) => {
                tally.failures += 1;
                tally.first_failure.get_or_insert(why);
            }
        }
    }
    tally
}

/// `GET /` with a fresh `x-client` value of [`KEY_BYTES`]: the key's number, then padding.
fn request_for(key: u32) -> Vec<u8> {
    let id = format!("{key:010}-");
    let value = format!("{id}{}", "k".repeat(KEY_BYTES - id.len()));
    format!("GET /flood HTTP/1.1\r\nhost: memory.bench\r\n{KEY_HEADER}: {value}\r\n\r\n")
        .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_8_kb_and_fresh() {
        let (a, b) = (request_for(1), request_for(2));
        assert_ne!(a, b);
        let text = String::from_utf8(a).unwrap();
        let value = text
            .lines()
            .find_map(|l| l.strip_prefix("x-client: "))
            .unwrap();
        assert_eq!(value.len(), KEY_BYTES);
    }
}
