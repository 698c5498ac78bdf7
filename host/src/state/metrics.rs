//! The metric registry behind `proxy_define_metric` and friends, plus the
//! host's own figures. Values are atomics so every worker records without a
//! lock; only defining a new metric takes the write lock.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

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

/// Bucket bounds: Envoy's default histogram buckets, so both hosts bucket alike.
pub const HISTOGRAM_BUCKETS: &[f64] = &[
    0.5, 1.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0, 30000.0,
    60000.0, 300000.0, 600000.0, 1800000.0, 3600000.0,
];

/// One metric's live value.
pub struct Metric {
    /// Name as the filter defined it.
    pub name: String,
    /// Its kind.
    pub kind: MetricKind,
    value: AtomicI64,
    buckets: Vec<AtomicU64>,
    sum: AtomicU64,
    count: AtomicU64,
}

/// Why an update was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum MetricError {
    /// No metric with that id.
    NotFound,
    /// The operation does not fit the kind (e.g. decrementing a counter).
    BadArgument,
}

impl Metric {
    fn new(name: &str, kind: MetricKind) -> Metric {
        let buckets = if kind == MetricKind::Histogram {
            HISTOGRAM_BUCKETS
                .iter()
                .map(|_| AtomicU64::new(0))
                .collect()
        } else {
            Vec::new()
        };
        Metric {
            name: name.to_string(),
            kind,
            value: AtomicI64::new(0),
            buckets,
            sum: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }

    /// Adds `delta` (counters refuse negative deltas; histograms refuse increments).
    pub fn increment(&self, delta: i64) -> Result<(), MetricError> {
        match self.kind {
            MetricKind::Counter if delta < 0 => Err(MetricError::BadArgument),
            MetricKind::Histogram => Err(MetricError::BadArgument),
            _ => {
                self.value.fetch_add(delta, Ordering::Relaxed);
                Ok(())
            }
        }
    }

    /// Sets a gauge or counter, or records a histogram sample.
    pub fn record(&self, value: u64) {
        match self.kind {
            MetricKind::Histogram => {
                let v = value as f64;
                if let Some(i) = HISTOGRAM_BUCKETS.iter().position(|b| v <= *b) {
                    self.buckets[i].fetch_add(1, Ordering::Relaxed);
                }
                self.sum.fetch_add(value, Ordering::Relaxed);
                self.count.fetch_add(1, Ordering::Relaxed);
            }
            _ => self.value.store(value as i64, Ordering::Relaxed),
        }
    }

    /// Current value; histograms cannot be read back (Envoy answers `BadArgument` too).
    pub fn get(&self) -> Result<u64, MetricError> {
        match self.kind {
            MetricKind::Histogram => Err(MetricError::BadArgument),
            _ => Ok(self.value.load(Ordering::Relaxed) as u64),
        }
    }
}

/// All metrics of the process.
#[derive(Default)]
pub struct Registry {
    inner: RwLock<Inner>,
}

#[derive(Default)]
struct Inner {
    metrics: Vec<Arc<Metric>>,
    by_name: HashMap<(String, u8), u32>,
}

impl Registry {
    /// Defines a metric, or returns the id of the one already defined with that name and kind.
    pub fn define(&self, name: &str, kind: MetricKind) -> u32 {
        let key = (name.to_string(), kind as u8);
        if let Some(&id) = self.read().by_name.get(&key) {
            return id;
        }
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        if let Some(&id) = inner.by_name.get(&key) {
            return id;
        }
        inner.metrics.push(Arc::new(Metric::new(name, kind)));
        let id = inner.metrics.len() as u32; // ids start at 1; 0 is never valid
        inner.by_name.insert(key, id);
        id
    }

    /// The metric behind an id.
    pub fn get(&self, id: u32) -> Result<Arc<Metric>, MetricError> {
        let inner = self.read();
        id.checked_sub(1)
            .and_then(|i| inner.metrics.get(i as usize))
            .cloned()
            .ok_or(MetricError::NotFound)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Prometheus text exposition of every metric.
    pub fn render_prometheus(&self, out: &mut String) {
        let inner = self.read();
        let mut metrics: Vec<&Arc<Metric>> = inner.metrics.iter().collect();
        metrics.sort_by(|a, b| a.name.cmp(&b.name));
        for metric in metrics {
            let name = prometheus_name(&metric.name);
            match metric.kind {
                MetricKind::Counter => {
                    let value = metric.value.load(Ordering::Relaxed);
                    let _ = writeln!(out, "# TYPE {name} counter\n{name} {value}");
                }
                MetricKind::Gauge => {
                    let _ = writeln!(
                        out,
                        "# TYPE {name} gauge\n{name} {}",
                        metric.value.load(Ordering::Relaxed)
                    );
                }
                MetricKind::Histogram => {
                    let _ = writeln!(out, "# TYPE {name} histogram");
                    let mut cumulative = 0;
                    for (bound, count) in HISTOGRAM_BUCKETS.iter().zip(&metric.buckets) {
                        cumulative += count.load(Ordering::Relaxed);
                        let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
                    }
                    let total = metric.count.load(Ordering::Relaxed);
                    let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {total}");
                    let _ = writeln!(out, "{name}_sum {}", metric.sum.load(Ordering::Relaxed));
                    let _ = writeln!(out, "{name}_count {total}");
                }
            }
        }
    }
}

/// Maps a filter's metric name to a valid Prometheus name (`[a-zA-Z_:][a-zA-Z0-9_:]*`).
pub fn prometheus_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == ':' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.chars().next().is_none_or(|c| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn define_is_idempotent_and_kinds_behave() {
        let registry = Registry::default();
        let c = registry.define("reqs", MetricKind::Counter);
        assert_eq!(registry.define("reqs", MetricKind::Counter), c);
        let counter = registry.get(c).unwrap();
        counter.increment(2).unwrap();
        assert_eq!(counter.increment(-1), Err(MetricError::BadArgument));
        assert_eq!(counter.get(), Ok(2));
        assert_eq!(registry.get(0).err(), Some(MetricError::NotFound));

        let h = registry
            .get(registry.define("lat", MetricKind::Histogram))
            .unwrap();
        h.record(3);
        h.record(700);
        let mut text = String::new();
        registry.render_prometheus(&mut text);
        assert!(text.contains("lat_bucket{le=\"5\"} 1"), "{text}");
        assert!(text.contains("lat_bucket{le=\"1000\"} 2"), "{text}");
        assert!(text.contains("lat_count 2"), "{text}");
        assert!(text.contains("reqs 2"), "{text}");
    }
}
