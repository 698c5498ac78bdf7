//! Issue 4's first test: kill 1 of 3 backends under steady GET load. Zero failed client
//! requests (retries cover the requests that hit it), the dead one ejected within a second,
//! and back in service once it is restarted on the same port and its ejection time has ended.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::json;

use super::{answers_in, assert_back_after_ejection, assert_no_failures};
use super::{mesh, metric, restart, retries};
use crate::load::Load;
use crate::{poll_until, Backend, BackendHandle, ProxyKind};

/// Base ejection time of the test: short, so "back in service" is seen quickly.
const EJECTION_MS: u64 = 2_000;
/// Connections of the steady load.
const CONNECTIONS: usize = 16;

/// See the module documentation. Prints the figures (requests, retries, time to eject, time
/// to return) so a run can be quoted.
pub fn kill_one_of_three_under_load(kind: ProxyKind) {
    let host = kind.name();
    let mut backends: Vec<Option<BackendHandle>> = ["b1", "b2", "b3"]
        .into_iter()
        .map(|name| Some(Backend::start(name)))
        .collect();
    let addrs: Vec<SocketAddr> = backends.iter().flatten().map(|b| b.addr).collect();
    let victim = addrs[1];
    let endpoint = victim.to_string();
    let gauge = [("service", "web"), ("endpoint", endpoint.as_str())];
    let config = mesh(
        &addrs,
        json!({ "outlier": { "base_ejection_time_ms": EJECTION_MS } }),
    );
    let proxy = kind.start(&config);
    let load = Load::start(proxy.listener("main"), "/kill", "x-backend", CONNECTIONS);
    poll_until(
        &format!("{host}: all three backends serve"),
        Duration::from_secs(10),
        || match backends.iter().flatten().find(|b| b.requests_seen() == 0) {
            Some(idle) => Err(format!("{} has seen nothing", idle.name())),
            None => Ok(()),
        },
    );

    let killed_at = Instant::now();
    drop(backends[1].take());
    let to_eject = poll_until(
        &format!("{host}: failover_ejected{{endpoint=\"{endpoint}\"}} = 1"),
        Duration::from_secs(5),
        || match metric(&proxy, "failover_ejected", &gauge) {
            Some(1.0) => Ok(killed_at.elapsed()),
            other => Err(format!("{other:?}")),
        },
    );
    let ejected_at = Instant::now();
    // lb re-reads the health document every 100 ms: from then on nobody picks the dead one,
    // so no more retries are needed.
    std::thread::sleep(Duration::from_millis(300));
    let retries_settled = retries(&proxy);
    std::thread::sleep(Duration::from_millis(500));
    let retries_while_ejected = retries(&proxy) - retries_settled;

    let reborn = restart(host, "b2", victim);
    let back_after = poll_until(
        &format!("{host}: b2 back in service"),
        Duration::from_millis(EJECTION_MS + 5_000),
        || match reborn.requests_seen() {
            0 => Err("no request yet".to_string()),
            _ => Ok(ejected_at.elapsed()),
        },
    );
    poll_until(
        &format!("{host}: failover_ejected back to 0"),
        Duration::from_secs(3),
        || match metric(&proxy, "failover_ejected", &gauge) {
            Some(0.0) => Ok(()),
            other => Err(format!("{other:?}")),
        },
    );
    // A second of steady load with b2 back: it takes its share again.
    let returned_at = Instant::now();
    std::thread::sleep(Duration::from_secs(1));
    let report = load.stop();
    let (after, to_b2) = answers_in(&report, returned_at..Instant::now(), |m| m == "b2");
    let total_retries = retries(&proxy);
    let ejections = metric(&proxy, "failover_ejections_total", &gauge).unwrap_or(0.0);
    eprintln!(
        "{host}: {} ok, {} failed; ejected {to_eject:?} after the kill; {total_retries} retries \
         ({retries_while_ejected} while ejected); ejections {ejections}; back in service \
         {back_after:?} after the ejection, then {to_b2} of {after} answers",
        report.ok.len(),
        report.failures.len(),
    );
    assert_no_failures(host, &report);
    assert!(
        to_eject < Duration::from_secs(1),
        "{host}: ejected {to_eject:?} after the kill"
    );
    assert_eq!(
        retries_while_ejected, 0.0,
        "{host}: lb still picked the ejected endpoint"
    );
    assert_back_after_ejection(host, "b2", back_after, EJECTION_MS, 150);
    assert!(
        to_b2 * 5 >= after,
        "{host}: b2 answered {to_b2} of the {after} requests after its return (round robin: 1/3)"
    );
}
