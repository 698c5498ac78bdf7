//! Watching the balancer follow registry changes under steady load: each change is stamped,
//! the backends' own request counters tell when traffic moved, and the load's samples (each
//! response names its endpoint in `x-wasmesh-endpoint`) give the exact times afterwards.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::load::LoadReport;
use crate::poll_until;
use wasmesh_backend::BackendHandle;

/// Waits until `backend` has served a request after `since` (its count grew past `before`).
pub fn wait_for_traffic(what: &str, backend: &BackendHandle, before: u64, bound: Duration) {
    poll_until(what, bound, || {
        let now = backend.requests_seen();
        if now > before {
            Ok(())
        } else {
            Err(format!("still {now} requests"))
        }
    });
}

/// Waits until `backend`'s count has not moved for `quiet` (its traffic dropped to 0).
pub fn wait_for_silence(what: &str, backend: &BackendHandle, quiet: Duration, bound: Duration) {
    let mut last = (backend.requests_seen(), Instant::now());
    poll_until(what, bound, || {
        let now = backend.requests_seen();
        if now != last.0 {
            last = (now, Instant::now());
        }
        if last.1.elapsed() >= quiet {
            Ok(())
        } else {
            Err(format!("{now} requests, still growing"))
        }
    });
}

/// Time from `change` to the first response from `addr` after it.
pub fn first_after(report: &LoadReport, addr: SocketAddr, change: Instant) -> Option<Duration> {
    let addr = addr.to_string();
    report
        .ok
        .iter()
        .filter(|s| s.at > change && s.marker.as_deref() == Some(addr.as_str()))
        .map(|s| s.at - change)
        .min()
}

/// Time from `change` to the last response from `addr` (`None`: none after the change).
pub fn last_after(report: &LoadReport, addr: SocketAddr, change: Instant) -> Option<Duration> {
    let addr = addr.to_string();
    report
        .ok
        .iter()
        .filter(|s| s.at > change && s.marker.as_deref() == Some(addr.as_str()))
        .map(|s| s.at - change)
        .max()
}

/// How many responses each of `addrs` gave in `[from, to)`.
pub fn counts(report: &LoadReport, addrs: &[SocketAddr], from: Instant, to: Instant) -> Vec<usize> {
    addrs
        .iter()
        .map(|addr| {
            let addr = addr.to_string();
            report
                .ok
                .iter()
                .filter(|s| s.at >= from && s.at < to && s.marker.as_deref() == Some(addr.as_str()))
                .count()
        })
        .collect()
}
