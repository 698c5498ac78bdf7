//! The live view's history: every [`SAMPLE_EVERY`] the admin reads its own exposition and keeps,
//! per route and per authority, the window's requests per second, success rate and latency
//! percentiles for the last [`KEPT`] windows (ten minutes), computed as `wasmesh stat
//! --interval` computes them. The page asks for it at `/ui/data`; a browser opened after an
//! incident still sees the minutes before it.
//!
//! Bounded: the metrics filter caps its label values, and a key whose every kept window is
//! empty is dropped.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use wasmesh_contract::exposition::{self, Sample};

use crate::host::Host;
use crate::stat::aggregate::{self, EndpointRow, RouteRow};
use crate::stat::snapshot::{EndpointKey, RouteKey, Snapshot};
use crate::stat::By;

/// How often the admin samples itself (the width of a window).
pub const SAMPLE_EVERY: Duration = Duration::from_secs(2);
/// How many windows are kept: ten minutes.
pub const KEPT: usize = 300;
/// How many windows the summary covers: the last minute.
pub const SUMMARY_WINDOWS: usize = 30;

/// One key's figures, one entry per kept window (`None`: no response in it).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Series {
    /// Responses per second.
    pub rps: VecDeque<Option<f64>>,
    /// Share of responses classified success, 0..=1.
    pub success: VecDeque<Option<f64>>,
    /// Latency p50, ms.
    pub p50: VecDeque<Option<f64>>,
    /// Latency p95, ms.
    pub p95: VecDeque<Option<f64>>,
    /// Latency p99, ms.
    pub p99: VecDeque<Option<f64>>,
}

impl Series {
    fn push(&mut self, row: Option<&RouteRow>) {
        let [p50, p95, p99] = row.map_or([None; 3], |r| r.latency);
        self.rps.push_back(row.and_then(|r| r.rps));
        self.success.push_back(row.and_then(|r| r.success));
        self.p50.push_back(p50);
        self.p95.push_back(p95);
        self.p99.push_back(p99);
    }

    fn pad(windows: usize) -> Series {
        let none = || VecDeque::from(vec![None; windows]);
        Series {
            rps: none(),
            success: none(),
            p50: none(),
            p95: none(),
            p99: none(),
        }
    }

    fn drop_oldest(&mut self) {
        for values in [
            &mut self.rps,
            &mut self.success,
            &mut self.p50,
            &mut self.p95,
            &mut self.p99,
        ] {
            values.pop_front();
        }
    }

    fn is_empty(&self) -> bool {
        self.rps.iter().all(Option::is_none)
    }
}

/// The kept windows, all series aligned on `times`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Windows {
    /// Each window's end, unix ms.
    pub times: VecDeque<u64>,
    /// By route name (all authorities together).
    pub routes: BTreeMap<String, Series>,
    /// By authority (all routes together).
    pub authorities: BTreeMap<String, Series>,
    /// The last [`SUMMARY_WINDOWS`] windows as one, by route.
    pub routes_summary: BTreeMap<String, Summary>,
    /// The same by authority.
    pub authorities_summary: BTreeMap<String, Summary>,
}

/// Several windows as one (quantiles from their summed buckets, not averaged).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Responses.
    pub responses: f64,
    /// Responses per second.
    pub rps: Option<f64>,
    /// Share classified success, 0..=1.
    pub success: Option<f64>,
    /// Latency p50, p95, p99, ms.
    pub latency: [Option<f64>; 3],
}

/// The history and the last scrape it was computed from.
#[derive(Default)]
pub struct Live {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    windows: Windows,
    /// The last [`SUMMARY_WINDOWS`] scrapes, grouped by route and by authority, oldest first.
    recent: VecDeque<(Snapshot, Snapshot)>,
    /// Per endpoint, the figures over the summary's span.
    endpoints: BTreeMap<EndpointKey, EndpointRow>,
}

impl Live {
    /// Adds the window that ends with `samples`, taken at `at` (unix ms `at_ms`).
    pub fn add(&self, samples: &[Sample], at: Instant, at_ms: u64) {
        let by_route = Snapshot::of_samples(samples, By::Route, at);
        let by_authority = Snapshot::of_samples(samples, By::Authority, at);
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        // Through a plain reference, so the fields borrow apart.
        let inner = &mut *guard;
        if let Some((route_before, authority_before)) = inner.recent.back() {
            let routes = aggregate::route_rows(Some(route_before), &by_route);
            let authorities = aggregate::route_rows(Some(authority_before), &by_authority);
            let windows = &mut inner.windows;
            let before = windows.times.len();
            windows.times.push_back(at_ms);
            push(&mut windows.routes, before, &routes, |k| label(k, &k.route));
            push(&mut windows.authorities, before, &authorities, |k| {
                label(k, &k.authority)
            });
            if windows.times.len() > KEPT {
                windows.times.pop_front();
                for series in windows.routes.values_mut() {
                    series.drop_oldest();
                }
                for series in windows.authorities.values_mut() {
                    series.drop_oldest();
                }
                windows.routes.retain(|_, s| !s.is_empty());
                windows.authorities.retain(|_, s| !s.is_empty());
            }
        }
        while inner.recent.len() > SUMMARY_WINDOWS {
            inner.recent.pop_front();
        }
        if let Some((route_first, authority_first)) = inner.recent.front() {
            let routes = summaries(route_first, &by_route, |k| label(k, &k.route));
            let authorities = summaries(authority_first, &by_authority, |k| label(k, &k.authority));
            inner.windows.routes_summary = routes;
            inner.windows.authorities_summary = authorities;
            inner.endpoints = aggregate::endpoint_rows(Some(route_first), &by_route)
                .into_iter()
                .map(|row| (row.key.clone(), row))
                .collect();
        }
        inner.recent.push_back((by_route, by_authority));
    }

    /// A copy of the kept windows.
    pub fn windows(&self) -> Windows {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.windows.clone()
    }

    /// One endpoint's figures over the last minute (as the summaries).
    pub fn endpoint(&self, key: &EndpointKey) -> Option<EndpointRow> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.endpoints.get(key).cloned()
    }

    /// Every endpoint the lb filter counted.
    pub fn endpoint_keys(&self) -> Vec<EndpointKey> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.endpoints.keys().cloned().collect()
    }
}

/// A row's name in the view: the route or authority, with the direction when it is outbound.
fn label(key: &RouteKey, name: &str) -> String {
    if key.direction == "outbound" {
        format!("{name} (outbound)")
    } else {
        name.to_string()
    }
}

/// One summary per key that had a response between `first` and `last`.
fn summaries(
    first: &Snapshot,
    last: &Snapshot,
    name: impl Fn(&RouteKey) -> String,
) -> BTreeMap<String, Summary> {
    aggregate::route_rows(Some(first), last)
        .into_iter()
        .filter(|row| row.responses > 0.0)
        .map(|row| {
            let summary = Summary {
                responses: row.responses,
                rps: row.rps,
                success: row.success,
                latency: row.latency,
            };
            (name(&row.key), summary)
        })
        .collect()
}

/// Appends one window after `windows_before` others: `rows` for the keys that had one (a new
/// key gets empty earlier windows), nothing for the others.
fn push(
    series: &mut BTreeMap<String, Series>,
    windows_before: usize,
    rows: &[RouteRow],
    name: impl Fn(&RouteKey) -> String,
) {
    let mut by_name: BTreeMap<String, &RouteRow> = BTreeMap::new();
    for row in rows {
        by_name.insert(name(&row.key), row);
    }
    for key in by_name.keys() {
        if !series.contains_key(key) {
            series.insert(key.clone(), Series::pad(windows_before));
        }
    }
    for (key, values) in series.iter_mut() {
        values.push(by_name.get(key).copied());
    }
}

/// Samples the host's own exposition every [`SAMPLE_EVERY`], for ever (the admin's runtime).
pub async fn sample(host: Arc<Host>, live: Arc<Live>) {
    let mut every = tokio::time::interval(SAMPLE_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let text = super::metrics(&host);
        let at_ms = wasmesh_host::embedder::system_now_nanos() / 1_000_000;
        live.add(&exposition::samples(&text), Instant::now(), at_ms);
    }
}

#[cfg(test)]
mod tests;
