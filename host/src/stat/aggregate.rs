//! From snapshots to table rows: counts over a window (between two scrapes) or since the proxy
//! started (one scrape), success rate, rate per second, latency quantiles, request share.

use std::collections::BTreeMap;

use super::snapshot::{EndpointKey, RouteKey, RouteTotals, Snapshot};

#[cfg(test)]
mod tests;

/// A route row, ready to format; `None` means "no traffic to say it from" (shown as `-`).
#[derive(Debug, Clone, PartialEq)]
pub struct RouteRow {
    /// Which route.
    pub key: RouteKey,
    /// Responses in the window (or since start).
    pub responses: f64,
    /// Successful share of those responses, 0..=1.
    pub success: Option<f64>,
    /// Responses per second over the window (`None` when cumulative or without traffic).
    pub rps: Option<f64>,
    /// Latency p50, p95, p99 in ms.
    pub latency: [Option<f64>; 3],
    /// Requests in flight at the last scrape.
    pub in_flight: f64,
}

/// An endpoint row.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointRow {
    /// Which endpoint of which service.
    pub key: EndpointKey,
    /// Requests sent to it in the window (or since start).
    pub requests: f64,
    /// Its share of its service's requests, 0..=1.
    pub share: Option<f64>,
    /// Requests per second over the window (`None` when cumulative or without traffic).
    pub rps: Option<f64>,
    /// Failed requests in the window (or since start).
    pub failures: f64,
    /// Requests in flight at the last scrape.
    pub in_flight: f64,
    /// Peak-EWMA latency estimate, when the policy publishes it.
    pub ewma_ms: Option<f64>,
}

/// The quantiles the table shows.
pub const QUANTILES: [f64; 3] = [0.50, 0.95, 0.99];

/// Route rows for the window from `before` to `after`, or since start when `before` is `None`.
pub fn route_rows(before: Option<&Snapshot>, after: &Snapshot) -> Vec<RouteRow> {
    let seconds = window_seconds(before, after);
    let empty = RouteTotals::default();
    after
        .routes
        .iter()
        .map(|(key, now)| {
            let then = before.and_then(|b| b.routes.get(key)).unwrap_or(&empty);
            let success = delta(now.success, then.success);
            let responses = success + delta(now.failure, then.failure);
            let latency = now.latency.since(&then.latency);
            RouteRow {
                key: key.clone(),
                responses,
                success: (responses > 0.0).then(|| success / responses),
                rps: rate(responses, seconds),
                latency: QUANTILES.map(|q| latency.quantile(q)),
                in_flight: now.in_flight,
            }
        })
        .collect()
}

/// Endpoint rows for the window from `before` to `after`, or since start when `before` is `None`.
pub fn endpoint_rows(before: Option<&Snapshot>, after: &Snapshot) -> Vec<EndpointRow> {
    let seconds = window_seconds(before, after);
    let mut rows: Vec<EndpointRow> = after
        .endpoints
        .iter()
        .map(|(key, now)| {
            let then = before.and_then(|b| b.endpoints.get(key));
            let requests = delta(now.requests, then.map_or(0.0, |t| t.requests));
            EndpointRow {
                key: key.clone(),
                requests,
                share: None,
                rps: rate(requests, seconds),
                failures: delta(now.failures, then.map_or(0.0, |t| t.failures)),
                in_flight: now.in_flight,
                ewma_ms: now.ewma_ms,
            }
        })
        .collect();
    let mut per_service: BTreeMap<String, f64> = BTreeMap::new();
    for row in &rows {
        *per_service.entry(row.key.service.clone()).or_default() += row.requests;
    }
    for row in &mut rows {
        let total = per_service[&row.key.service];
        row.share = (total > 0.0).then(|| row.requests / total);
    }
    rows
}

/// How much a counter grew; a counter that went down was reset (the proxy restarted), so its
/// new value is all growth.
fn delta(now: f64, then: f64) -> f64 {
    if now >= then {
        now - then
    } else {
        now
    }
}

fn window_seconds(before: Option<&Snapshot>, after: &Snapshot) -> Option<f64> {
    before.map(|b| after.at.duration_since(b.at).as_secs_f64())
}

fn rate(count: f64, seconds: Option<f64>) -> Option<f64> {
    seconds
        .filter(|s| *s > 0.0 && count > 0.0)
        .map(|s| count / s)
}
