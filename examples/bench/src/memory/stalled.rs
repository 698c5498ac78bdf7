//! Scenario `stalled`: `--clients` (100) HTTP/1.1 clients each ask for `/bytes?n=` of
//! `--response-bytes` (16 MiB) and do not read a byte for `--stall` (5 s). Whatever the proxy
//! takes from the backend and cannot hand on, it holds; only a timeout of its own lets it go
//! (wasmesh's route timeout covers the whole response; Envoy's stops at the response head).
//!
//! After the stall each client reads what it is sent, in turn, until the proxy closes, the
//! body is whole or nothing comes for [`READ_PAUSE`]: a close before the whole body means the
//! proxy cut the response. When it cut (the client cannot see that while not reading: the close
//! queues behind the unread bytes) is the sampler's open-file count, in the report.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use crate::memory::clock::Clock;
use crate::memory::http1::{Connection, Drained};
use crate::memory::upload::mib_text;

/// Each connect and write's time limit.
const IO_LIMIT: Duration = Duration::from_secs(3);
/// After the stall, a client that gets nothing for this long is counted as still open.
const READ_PAUSE: Duration = Duration::from_secs(2);
/// All the clients' reading after the stall, together.
const DRAIN_LIMIT: Duration = Duration::from_secs(40);

/// What one client got once it read.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Got {
    /// A 200 and then this many body bytes, ended as said.
    Body(u64, Drained),
    /// An answer other than 200 (e.g. the route timeout's 504 before any head came).
    Status(u16),
    /// No response head: why.
    Nothing(String),
    /// Not read: the reading after the stall ran out of time first.
    NotRead,
}

/// Runs the stalled clients against `addr` and says what they saw.
pub fn run(
    addr: SocketAddr,
    clients: u32,
    bytes: u64,
    stall: Duration,
    clock: Clock,
) -> anyhow::Result<String> {
    let request =
        format!("GET /bytes?n={bytes} HTTP/1.1\r\nhost: memory.bench\r\nconnection: close\r\n\r\n");
    let mut connections = Vec::new();
    let mut failed = Vec::new();
    for _ in 0..clients {
        match Connection::open(addr, IO_LIMIT).and_then(|mut c| {
            c.send(request.as_bytes())?;
            Ok(c)
        }) {
            Ok(connection) => connections.push(connection),
            Err(e) => failed.push(e.to_string()),
        }
    }
    std::thread::sleep(clock.until(stall));
    let drain_until = clock.now() + DRAIN_LIMIT;
    let got: Vec<Got> = connections
        .iter_mut()
        .map(|connection| {
            if clock.now() > drain_until {
                return Got::NotRead;
            }
            let _ = connection.stream.set_read_timeout(Some(READ_PAUSE));
            match connection.read_head() {
                Ok(head) if head.status == 200 => {
                    let (n, how) = connection.drain(bytes);
                    Got::Body(n, how)
                }
                Ok(head) => Got::Status(head.status),
                Err(e) => Got::Nothing(e),
            }
        })
        .collect();
    drop(connections);
    Ok(summary(&got, &failed, bytes))
}

/// `100 × 200: 100 cut after 0.4–1.2 MiB`, with anything else that happened.
fn summary(got: &[Got], failed: &[String], bytes: u64) -> String {
    let mut cut = Vec::new();
    let mut whole = 0;
    let mut open = Vec::new();
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    let mut nothing: BTreeMap<&str, usize> = BTreeMap::new();
    let mut not_read = 0;
    for g in got {
        match g {
            Got::Body(n, _) if *n >= bytes => whole += 1,
            Got::Body(n, Drained::Closed | Drained::Reset) => cut.push(*n),
            Got::Body(n, _) => open.push(*n),
            Got::Status(s) => *statuses.entry(*s).or_default() += 1,
            Got::Nothing(why) => *nothing.entry(why.as_str()).or_default() += 1,
            Got::NotRead => not_read += 1,
        }
    }
    let started = got.len() - statuses.values().sum::<usize>() - nothing.values().sum::<usize>();
    let mut parts = vec![format!("{} × 200 head", started - not_read)];
    if !cut.is_empty() {
        parts.push(format!("{} cut after {}", cut.len(), range(&cut)));
    }
    if whole > 0 {
        parts.push(format!("{whole} got the whole body"));
    }
    if !open.is_empty() {
        parts.push(format!("{} still open after {}", open.len(), range(&open)));
    }
    for (status, n) in statuses {
        parts.push(format!("{n} × {status}"));
    }
    for (why, n) in nothing {
        parts.push(format!("{n} no answer ({why})"));
    }
    if not_read > 0 {
        parts.push(format!("{not_read} not read in {DRAIN_LIMIT:?}"));
    }
    if let Some(first) = failed.first() {
        parts.push(format!("{} could not ask ({first})", failed.len()));
    }
    parts.join(", ")
}

/// `0.4–1.2 MiB` (or one figure when all are equal).
fn range(values: &[u64]) -> String {
    let min = values.iter().copied().min().unwrap_or(0);
    let max = values.iter().copied().max().unwrap_or(0);
    if min == max {
        mib_text(min)
    } else {
        format!("{:.1}–{}", min as f64 / (1 << 20) as f64, mib_text(max))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_up_what_the_clients_got() {
        let mib = 1 << 20;
        let got = [
            Got::Body(mib, Drained::Closed),
            Got::Body(3 * mib, Drained::Reset),
            Got::Body(16 * mib, Drained::Limit),
            Got::Status(504),
        ];
        assert_eq!(
            summary(&got, &[], 16 * mib),
            "3 × 200 head, 2 cut after 1.0–3.0 MiB, 1 got the whole body, 1 × 504"
        );
        let got = [Got::Body(2 * mib, Drained::Paused), Got::NotRead];
        assert_eq!(
            summary(&got, &["refused".into()], 16 * mib),
            "1 × 200 head, 1 still open after 2.0 MiB, 1 not read in 40s, 1 could not ask (refused)"
        );
    }
}
