//! Issue 4's budget test: one of 3 backends answers 503 to every second request it gets
//! (alternating, so never two in a row) under steady GET load. Retries on another endpoint
//! keep the client's success rate at ≥ 99.9 %, and the retry budget bounds the extra load:
//! upstream requests (counted at the backends) ÷ client requests ≤ 1 + ratio + floor. A
//! second run with a budget below the failure rate shows the cap at work.
//!
//! Outlier detection runs with its defaults (5 consecutive 5xx / gateway failures): the
//! alternating backend never fails twice in a row, so it is never ejected (asserted), and
//! every failure it gives is seen by the retry path: ejection does not hide the retries.
//!
//! The floor: the budget allows `min_per_second × window` retries on top of `ratio × requests`
//! at any time, so over a run shorter than the window the bound is
//! `1 + ratio + min_per_second × window_s ÷ client requests`. Client requests are those the
//! load recorded; a request in flight when the load stops (at most one per connection) reaches
//! the backends and the budget but may have no recorded outcome (the load ignores failures once
//! stopped), so the bound counts `(1 + ratio) × connections` more upstream requests.

use std::time::{Duration, Instant};

use serde_json::json;

use super::{mesh, metric, retries};
use crate::load::Load;
use crate::{poll_until, Backend, ProxyKind};

/// Connections of the steady load.
const CONNECTIONS: usize = 16;
/// How long the load runs (shorter than the budget's 10 s window, see the floor).
const RUN: Duration = Duration::from_secs(4);
/// The budget's window (its default), in seconds.
const WINDOW_S: f64 = 10.0;

/// What one run saw.
struct Figures {
    client: f64,
    failed: f64,
    upstream: f64,
    retries: f64,
    refused: f64,
}

/// Steady GETs for [`RUN`] over b1, b2 and b3 (b3 failing every second request), with budget
/// `ratio` and `min_per_second`; asserts b3 is never ejected and prints the figures.
fn run(kind: ProxyKind, ratio: f64, min_per_second: u32) -> Figures {
    let host = kind.name();
    let b1 = Backend::start("b1");
    let b2 = Backend::start("b2");
    let b3 = Backend::start("b3").fail_every(2);
    let backends = [&b1, &b2, &b3];
    let addrs: Vec<_> = backends.iter().map(|b| b.addr).collect();
    let budget = json!({ "ratio": ratio, "min_per_second": min_per_second });
    let proxy = kind.start(&mesh(&addrs, json!({ "retry": { "budget": budget } })));
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
    let web = [("service", "web")];
    let b3_label = b3.addr.to_string();
    let ejection = [("service", "web"), ("endpoint", b3_label.as_str())];
    let figures = Figures {
        client: (report.ok.len() + report.failures.len()) as f64,
        failed: report.failures.len() as f64,
        upstream: upstream as f64,
        retries: retries(&proxy),
        refused: metric(&proxy, "failover_budget_exhausted_total", &web).unwrap_or(0.0),
    };
    let ejections = metric(&proxy, "failover_ejections_total", &ejection).unwrap_or(0.0);
    let Figures { client, failed, .. } = figures;
    eprintln!(
        "{host}: budget {ratio}/{min_per_second} per s: {client} client requests in \
         {elapsed:.1?}, {failed} failed (success {:.3} %); upstream {upstream} (b1 {}, b2 {}, \
         b3 {}), upstream/client {:.4} <= {:.4}; retries {}, budget refused {}, ejections \
         {ejections}",
        100.0 * (client - failed) / client,
        b1.requests_seen(),
        b2.requests_seen(),
        b3.requests_seen(),
        figures.upstream / client,
        bound(&figures, ratio, min_per_second),
        figures.retries,
        figures.refused,
    );
    assert!(client >= 500.0, "{host}: only {client} requests in {RUN:?}");
    assert!(figures.retries > 0.0, "{host}: no retries");
    assert_eq!(
        ejections, 0.0,
        "{host}: the alternating backend was ejected"
    );
    assert!(
        figures.upstream / client <= bound(&figures, ratio, min_per_second),
        "{host}: upstream/client {:.4} above the budget's bound",
        figures.upstream / client
    );
    figures
}

/// Budgeted retries over `client` recorded requests: `ratio` of every request the proxy may
/// have seen (the recorded ones and one unrecorded per connection) plus the floor.
fn allowed_retries(client: f64, ratio: f64, min_per_second: u32) -> f64 {
    ratio * (client + CONNECTIONS as f64) + f64::from(min_per_second) * WINDOW_S
}

/// Upstream ÷ client at most: every request seen once, plus the allowed retries
/// (`1 + ratio + floor`, with the unrecorded in-flight requests of the module docs).
fn bound(figures: &Figures, ratio: f64, min_per_second: u32) -> f64 {
    let seen = figures.client + CONNECTIONS as f64;
    (seen + allowed_retries(figures.client, ratio, min_per_second)) / figures.client
}

/// The default budget (20 %, 10/s): a sixth of the first tries fail (b3's half of its
/// third), every one is retried, ≥ 99.9 % of client requests succeed, within the bound.
pub fn half_503_stays_within_the_budget(kind: ProxyKind) {
    let host = kind.name();
    let figures = run(kind, 0.2, 10);
    let success = (figures.client - figures.failed) / figures.client;
    assert!(success >= 0.999, "{host}: success {:.3} %", success * 100.0);
}

/// A budget below the failure rate (5 %, 1/s): the budget refuses retries and caps them at
/// its bound, so the client sees the 503s it could not cover (about 17 % − 5 %).
pub fn a_tight_budget_caps_the_retries(kind: ProxyKind) {
    let host = kind.name();
    let figures = run(kind, 0.05, 1);
    assert!(figures.refused > 0.0, "{host}: the budget refused nothing");
    assert!(
        figures.retries <= allowed_retries(figures.client, 0.05, 1),
        "{host}: {} retries over the budget",
        figures.retries
    );
    assert!(
        figures.failed >= 0.05 * figures.client,
        "{host}: only {} of {} failed: retries beyond the budget?",
        figures.failed,
        figures.client
    );
}
