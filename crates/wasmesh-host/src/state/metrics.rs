//! The metric registry behind `proxy_define_metric` and friends, plus the
//! host's own figures. Only defining a new metric takes the registry's write lock; a VM
//! records its counters and histograms in cells of its own (`cells.rs`), summed at a scrape,
//! and gauges in the metric's shared atomic.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use wasmesh_contract::metric_name;

use super::refusal::Refusals;

/// Metrics the whole host may hold (filters' and its own). A filter defines tens of metrics,
/// a few hundred with per-status or per-upstream labels; 100 000 is far above that, and bounds
/// a filter that defines a fresh name per request (each costs a few hundred bytes, and every
/// scrape renders them all).
pub const MAX_METRICS: usize = 100_000;
/// Longest metric name a guest may define, labels included: real names are well under 200
/// bytes; 4 KiB keeps one name from being a megabyte of Prometheus text on every scrape.
pub const MAX_NAME_BYTES: usize = 4096;

/// Kinds, numbered as in the proxy-wasm spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// Only goes up.
    Counter = 0,
    /// Goes up and down.
    Gauge = 1,
    /// Distribution of recorded values.
    Histogram = 2,
}

impl MetricKind {
    /// From the ABI's number.
    pub fn from_abi(raw: i32) -> Option<MetricKind> {
        match raw {
            0 => Some(MetricKind::Counter),
            1 => Some(MetricKind::Gauge),
            2 => Some(MetricKind::Histogram),
            _ => None,
        }
    }
}

/// Default bucket bounds: Envoy's default histogram buckets, so both hosts bucket alike when
/// neither is told otherwise.
pub const HISTOGRAM_BUCKETS: &[f64] = &[
    0.5, 1.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0, 30000.0,
    60000.0, 300000.0, 600000.0, 1800000.0, 3600000.0,
];

/// Histograms whose defined name starts with `prefix` use `bounds` (Envoy's
/// `histogram_bucket_settings`, matched on the name as the filter defined it).
#[derive(Debug, Clone, PartialEq)]
pub struct BucketRule {
    /// Name prefix, e.g. `response_latency_ms`.
    pub prefix: String,
    /// Upper bounds, strictly increasing.
    pub bounds: Vec<f64>,
}

/// One metric's live value.
pub struct Metric {
    /// Name as the filter defined it.
    pub name: String,
    /// Its kind.
    pub kind: MetricKind,
    /// Prometheus family name (the name's base, sanitised).
    family: String,
    /// Prometheus labels from the name, rendered `k="v",…` (empty without labels).
    labels: String,
    bounds: Vec<f64>,
    /// A gauge's value; a counter's, recorded by the host or left by VMs that are gone.
    value: AtomicI64,
    /// A histogram's per-bucket counts (not cumulative), sum and count, as `value`.
    buckets: Vec<AtomicU64>,
    sum: AtomicU64,
    count: AtomicU64,
    /// Every live VM's part of a counter or histogram.
    parts: cells::Parts,
}

/// Why an update was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum MetricError {
    /// No metric with that id.
    NotFound,
    /// The operation does not fit the kind (e.g. decrementing a counter).
    BadArgument,
    /// A new definition past [`MAX_METRICS`], or a name longer than [`MAX_NAME_BYTES`].
    Refused,
}

impl Metric {
    fn new(name: &str, kind: MetricKind, rules: &[BucketRule]) -> Metric {
        let bounds = if kind == MetricKind::Histogram {
            rules
                .iter()
                .find(|rule| name.starts_with(&rule.prefix))
                .map_or(HISTOGRAM_BUCKETS, |rule| &rule.bounds)
                .to_vec()
        } else {
            Vec::new()
        };
        let (base, labels) = metric_name::parse(name);
        Metric {
            name: name.to_string(),
            kind,
            family: prometheus_name(base),
            labels: render_labels(&labels),
            buckets: bounds.iter().map(|_| AtomicU64::new(0)).collect(),
            bounds,
            value: AtomicI64::new(0),
            sum: AtomicU64::new(0),
            count: AtomicU64::new(0),
            parts: cells::Parts::default(),
        }
    }

    /// Adds `delta`, as Envoy does: a counter takes positive deltas only, a gauge any, a
    /// histogram none.
    pub fn increment(&self, delta: i64) -> Result<(), MetricError> {
        match self.kind {
            MetricKind::Counter if delta <= 0 => Err(MetricError::BadArgument),
            MetricKind::Histogram => Err(MetricError::BadArgument),
            _ => {
                self.value.fetch_add(delta, Ordering::Relaxed);
                Ok(())
            }
        }
    }

    /// Records `value` as Envoy does: adds it to a counter, sets a gauge, records a histogram
    /// sample.
    pub fn record(&self, value: u64) {
        match self.kind {
            MetricKind::Histogram => {
                if let Some(i) = self.bucket_of(value) {
                    self.buckets[i].fetch_add(1, Ordering::Relaxed);
                }
                self.sum.fetch_add(value, Ordering::Relaxed);
                self.count.fetch_add(1, Ordering::Relaxed);
            }
            MetricKind::Counter => {
                self.value.fetch_add(value as i64, Ordering::Relaxed);
            }
            MetricKind::Gauge => self.value.store(value as i64, Ordering::Relaxed),
        }
    }

    /// The bucket a histogram sample falls in; none above the last bound (only `+Inf` counts it).
    fn bucket_of(&self, value: u64) -> Option<usize> {
        let v = value as f64;
        self.bounds.iter().position(|b| v <= *b)
    }

    /// A histogram's sample count and sum over every VM (0 for other kinds).
    pub fn samples(&self) -> (u64, u64) {
        if self.kind != MetricKind::Histogram {
            return (0, 0);
        }
        let (_, sum, count) = self.histogram_total();
        (count, sum)
    }

    /// Current value (a counter's over every VM); histograms cannot be read back (Envoy answers
    /// `BadArgument` too).
    pub fn get(&self) -> Result<u64, MetricError> {
        match self.kind {
            MetricKind::Histogram => Err(MetricError::BadArgument),
            MetricKind::Counter => Ok(self.counter_total()),
            MetricKind::Gauge => Ok(self.value.load(Ordering::Relaxed) as u64),
        }
    }
}

/// All metrics of the process.
pub struct Registry {
    inner: RwLock<Inner>,
    /// Guest definitions refused for a cap.
    pub refused: Refusals,
}

impl Default for Registry {
    fn default() -> Registry {
        Registry {
            inner: RwLock::default(),
            refused: Refusals::new("metrics"),
        }
    }
}

#[derive(Default)]
struct Inner {
    metrics: Vec<Arc<Metric>>,
    by_name: HashMap<(String, u8), u32>,
    bucket_rules: Vec<BucketRule>,
}

impl Registry {
    /// Defines a metric, or returns the id of the one already defined with that name and kind.
    /// For the host's own metrics, which are few and fixed: guests go through
    /// [`Registry::define_for_guest`].
    pub fn define(&self, name: &str, kind: MetricKind) -> u32 {
        self.define_within(name, kind, usize::MAX)
            .expect("no cap on the host's own metrics")
    }

    /// [`Registry::define`] for a guest of `vm_id`: a name past [`MAX_NAME_BYTES`], or a new
    /// metric past [`MAX_METRICS`], is refused (counted and logged); existing names still resolve.
    pub fn define_for_guest(
        &self,
        vm_id: &str,
        name: &str,
        kind: MetricKind,
    ) -> Result<u32, MetricError> {
        let defined = if name.len() > MAX_NAME_BYTES {
            Err(MetricError::Refused)
        } else {
            self.define_within(name, kind, MAX_METRICS)
        };
        if defined.is_err() {
            self.refused.refuse(
                vm_id,
                &format!(
                    "metrics are capped at {MAX_METRICS} host-wide and {MAX_NAME_BYTES} bytes \
                     per name"
                ),
            );
        }
        defined
    }

    fn define_within(&self, name: &str, kind: MetricKind, cap: usize) -> Result<u32, MetricError> {
        let key = (name.to_string(), kind as u8);
        if let Some(&id) = self.read().by_name.get(&key) {
            return Ok(id);
        }
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        if let Some(&id) = inner.by_name.get(&key) {
            return Ok(id);
        }
        if inner.metrics.len() >= cap {
            return Err(MetricError::Refused);
        }
        let metric = Metric::new(name, kind, &inner.bucket_rules);
        inner.metrics.push(Arc::new(metric));
        let id = inner.metrics.len() as u32; // ids start at 1; 0 is never valid
        inner.by_name.insert(key, id);
        Ok(id)
    }

    /// The metric defined with this name and kind, if any (a test reads what a filter recorded).
    pub fn find(&self, name: &str, kind: MetricKind) -> Option<Arc<Metric>> {
        let inner = self.read();
        let id = *inner.by_name.get(&(name.to_string(), kind as u8))?;
        inner.metrics.get(id as usize - 1).cloned()
    }

    /// The metric behind an id.
    pub fn get(&self, id: u32) -> Result<Arc<Metric>, MetricError> {
        let inner = self.read();
        id.checked_sub(1)
            .and_then(|i| inner.metrics.get(i as usize))
            .cloned()
            .ok_or(MetricError::NotFound)
    }

    /// Sets the bucket rules for histograms defined from now on (already defined ones keep
    /// theirs: their counts were taken against their bounds); returns the previous rules.
    pub fn set_bucket_rules(&self, rules: Vec<BucketRule>) -> Vec<BucketRule> {
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        std::mem::replace(&mut inner.bucket_rules, rules)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }
}

pub(crate) mod cells;
mod render;

pub use cells::{MetricCells, MAX_SLOTS};

pub use render::prometheus_name;
use render::render_labels;

#[cfg(test)]
mod tests;
