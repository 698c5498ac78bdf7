//! A counter with one label, for events that are rare and worth naming (a listener that
//! refused a connection, a cluster that refused a request, a TCP connection that ended): a lock
//! per event is cheap at that rate, and the map only holds labels the configuration names.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

/// One Prometheus counter family with a single label.
pub struct LabelledCounter {
    name: &'static str,
    help: &'static str,
    label: &'static str,
    counts: Mutex<BTreeMap<String, u64>>,
}

impl LabelledCounter {
    /// A family with no samples yet.
    pub const fn new(name: &'static str, help: &'static str, label: &'static str) -> Self {
        LabelledCounter {
            name,
            help,
            label,
            counts: Mutex::new(BTreeMap::new()),
        }
    }

    /// Counts one event for `value`.
    pub fn inc(&self, value: &str) {
        self.add(value, 1);
    }

    /// Adds `n` for `value` (a connection's bytes, counted once when it ends).
    pub fn add(&self, value: &str, n: u64) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        match counts.get_mut(value) {
            Some(count) => *count += n,
            None => {
                counts.insert(value.to_string(), n);
            }
        }
    }

    /// The count for `value`.
    pub fn get(&self, value: &str) -> u64 {
        let counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        counts.get(value).copied().unwrap_or(0)
    }

    /// Appends the family in Prometheus text format (HELP and TYPE even with no samples, so a
    /// dashboard finds the series before the first event).
    pub fn render(&self, out: &mut String) {
        let (name, label) = (self.name, self.label);
        let _ = writeln!(out, "# HELP {name} {}\n# TYPE {name} counter", self.help);
        let counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        for (value, n) in counts.iter() {
            let value = value.replace('\\', "\\\\").replace('"', "\\\"");
            let _ = writeln!(out, "{name}{{{label}=\"{value}\"}} {n}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_label_and_escapes_values() {
        let counter = LabelledCounter::new("x_total", "Things.", "who");
        counter.inc("a");
        counter.inc("a");
        counter.inc("q\"uote");
        assert_eq!(counter.get("a"), 2);
        assert_eq!(counter.get("b"), 0);
        let mut out = String::new();
        counter.render(&mut out);
        assert_eq!(
            out,
            "# HELP x_total Things.\n# TYPE x_total counter\nx_total{who=\"a\"} 2\nx_total{who=\"q\\\"uote\"} 1\n"
        );
    }
}
