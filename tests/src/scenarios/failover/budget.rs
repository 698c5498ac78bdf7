//! Issue 4's budget test: one of 3 backends answers 503 to every second request it gets
//! (alternating, so never two in a row) under steady GET load. Retries on another endpoint
//! keep the client's success rate at ≥ 99.9 %, and the retry budget bounds the extra load:
//! upstream requests (counted at the backends) ÷ client requests ≤ 1 + ratio + floor.
//!
//! Outlier detection runs with its defaults (5 consecutive 5xx / gateway failures): the
//! alternating backend never fails twice in a row, so it is never ejected (asserted), and
//! every failure it gives is seen by the retry path: ejection does not hide the retries.
//!
//! The floor: the budget allows `min_per_second × window` retries on top of `ratio × requests`
//! at any time, so over a run shorter than the window the bound is
//! `1 + ratio + min_per_second × window_s ÷ client requests`.

use std::time::{Duration, Instant};

use serde_json::json;

use super::{mesh, metric, retries};
use crate::load::Load;
use crate::{poll_until, Backend, ProxyKind};

/// Connections of the steady load.
const CONNECTIONS: usize = 16;
/// How long the load runs (shorter than the budget's 10 s window, see the floor).
const RUN: Duration = Duration::from_secs(4);
/// The budget's defaults: ratio 0.2, 10 retries/s, 10 s window.
const RATIO: f64 = 0.2;
const FLOOR_RETRIES: f64 = 10.0 * 10.0;

/// See the module documentation; prints the figures.
pub fn half_503_stays_within_the_budget(kind: ProxyKind) {
    let host = kind.name();
    let b1 = Backend::start("b1");
    let b2 = Backend::start("b2");
    let b3 = Backend::start("b3").fail_every(2);
    let backends = [&b1, &b2, &b3];
    let addrs: Vec<_> = backends.iter().map(|b| b.addr).collect();
    let proxy = kind.start(&mesh(&addrs, json!({})));
    let started = Instant::now();
    let load = Load::start(proxy.listener("main"), "/budget", "x-backend", CONNECTIONS);
    std::thread::sleep(RUN);
    let report = load.stop();
    let elapsed = started.elapsed();
    // Requests still in flight when the load stopped reach the backends a moment later.
    let upstream = poll_until(
        &format!("{host}: backend counts settle"),
        Duration::from_secs(5),
        || {
            let before: u64 = backends.iter().map(|b| b.requests_seen()).sum();
            std::thread::sleep(Duration::from_millis(200));
            let after: u64 = backends.iter().map(|b| b.requests_seen()).sum();
            if before == after {
                Ok(after)
            } else {
                Err(format!("{before} -> {after}"))
            }
        },
    );
    let ok = report.ok.len() as f64;
    let failed = report.failures.len() as f64;
    let client = ok + failed;
    let success = ok / client;
    let ratio = upstream as f64 / client;
    let floor = FLOOR_RETRIES / client;
    let total_retries = retries(&proxy);
    let exhausted = metric(
        &proxy,
        "failover_budget_exhausted_total",
        &[("service", "web")],
    )
    .unwrap_or(0.0);
    let ejections = metric(
        &proxy,
        "failover_ejections_total",
        &[("service", "web"), ("endpoint", &b3.addr.to_string())],
    )
    .unwrap_or(0.0);
    eprintln!(
        "{host}: {client} client requests in {elapsed:.1?}, {failed} failed (success {:.3} %); \
         upstream {upstream} (b1 {}, b2 {}, b3 {}), ratio {ratio:.4} <= {:.4} (1 + {RATIO} + \
         floor {floor:.4}); retries {total_retries}, budget refused {exhausted}, ejections \
         {ejections}",
        success * 100.0,
        b1.requests_seen(),
        b2.requests_seen(),
        b3.requests_seen(),
        1.0 + RATIO + floor
    );
    assert!(client >= 500.0, "{host}: only {client} requests in {RUN:?}");
    assert!(
        success >= 0.999,
        "{host}: success {:.3} %, failures e.g. {:?}",
        success * 100.0,
        &report.failures[..report.failures.len().min(5)]
    );
    assert!(
        ratio <= 1.0 + RATIO + floor,
        "{host}: upstream/client {ratio:.4} above the budget's bound"
    );
    assert!(
        total_retries > 0.0 && b3.requests_seen() > 0,
        "{host}: no retries"
    );
    assert_eq!(
        ejections, 0.0,
        "{host}: the alternating backend was ejected"
    );
}
