//! The Prometheus text exposition of the registry: one family per base name, labels from the
//! metric-name convention, histograms as `_bucket`/`_sum`/`_count`.

use std::fmt::Write;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::{Metric, MetricKind, Registry};

impl Registry {
    /// Prometheus text exposition of every metric: one family per base name (all its label
    /// sets together under one `# TYPE`, as the format requires), families sorted by name.
    /// Renders from a snapshot of the list taken under the lock, so a worker defining a metric
    /// meanwhile does not wait for the sorting and rendering of up to 100 000 of them.
    pub fn render_prometheus(&self, out: &mut String) {
        let snapshot: Vec<Arc<Metric>> = self.read().metrics.clone();
        let mut metrics: Vec<&Arc<Metric>> = snapshot.iter().collect();
        metrics.sort_by(|a, b| (&a.family, a.kind as u8).cmp(&(&b.family, b.kind as u8)));
        let mut previous: Option<(&str, MetricKind)> = None;
        for metric in metrics {
            let family = metric.family.as_str();
            match previous {
                Some((name, kind)) if name == family && kind == metric.kind => {}
                // The same base defined with two kinds cannot be one family; the second kind
                // is left out rather than making the whole exposition invalid.
                Some((name, _)) if name == family => continue,
                _ => {
                    // The proxy-wasm API carries no help text; say where the metric comes from.
                    let _ = writeln!(
                        out,
                        "# HELP {family} Defined by a wasm filter.\n# TYPE {family} {}",
                        metric.kind.prometheus_type()
                    );
                    previous = Some((family, metric.kind));
                }
            }
            metric.render(out);
        }
    }
}

impl MetricKind {
    fn prometheus_type(self) -> &'static str {
        match self {
            MetricKind::Counter => "counter",
            MetricKind::Gauge => "gauge",
            MetricKind::Histogram => "histogram",
        }
    }
}

impl Metric {
    /// This metric's sample lines (no `# TYPE`).
    fn render(&self, out: &mut String) {
        let name = &self.family;
        let labels = &self.labels;
        match self.kind {
            MetricKind::Counter => {
                let value = self.counter_total();
                let _ = writeln!(out, "{name}{} {value}", braces(labels));
            }
            MetricKind::Gauge => {
                let value = self.value.load(Ordering::Relaxed);
                let _ = writeln!(out, "{name}{} {value}", braces(labels));
            }
            MetricKind::Histogram => {
                let sep = if labels.is_empty() { "" } else { "," };
                let (buckets, sum, total) = self.histogram_total();
                let mut cumulative = 0;
                for (bound, count) in self.bounds.iter().zip(buckets) {
                    cumulative += count;
                    let _ = writeln!(
                        out,
                        "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {cumulative}"
                    );
                }
                let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {total}");
                let _ = writeln!(out, "{name}_sum{} {sum}", braces(labels));
                let _ = writeln!(out, "{name}_count{} {total}", braces(labels));
            }
        }
    }
}

/// `{labels}`, or nothing for a metric without labels.
fn braces(labels: &str) -> String {
    if labels.is_empty() {
        String::new()
    } else {
        format!("{{{labels}}}")
    }
}

/// `k="v",…` with label names sanitised and values escaped as the text format says.
pub(super) fn render_labels(labels: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (i, (key, value)) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&prometheus_name(key).replace(':', "_"));
        out.push_str("=\"");
        for c in value.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                '\n' => out.push_str("\\n"),
                c => out.push(c),
            }
        }
        out.push('"');
    }
    out
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
