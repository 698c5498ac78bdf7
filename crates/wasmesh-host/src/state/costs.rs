//! What each plugin costs, for its operator: the time each callback spends in the guest (a
//! histogram per plugin and callback) and the linear memory its VMs hold (a gauge per plugin,
//! summed over the workers' VMs). No other proxy-wasm host exposes these; Envoy has no
//! per-plugin time or memory.
//!
//! Every VM of a plugin shares its plugin's histograms (one `Arc`, looked up once when the VM
//! starts), so a callback costs three relaxed atomic additions; each VM publishes its memory
//! size after every callback into a cell the registry holds weakly, so a VM that is gone stops
//! counting.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

/// Upper bounds of the histogram's buckets, in microseconds (`+Inf` follows).
const BOUNDS_US: [u64; 14] = [
    1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 50_000,
];

/// Time spent in one callback of one plugin.
#[derive(Default)]
struct Histogram {
    /// Non-cumulative counts per bucket; the last is `+Inf`.
    buckets: [AtomicU64; BOUNDS_US.len() + 1],
    count: AtomicU64,
    sum_ns: AtomicU64,
}

impl Histogram {
    fn record(&self, took: Duration) {
        let us = took.as_micros();
        let bucket = BOUNDS_US
            .iter()
            .position(|b| us <= u128::from(*b))
            .unwrap_or(BOUNDS_US.len());
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
        let ns = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        self.sum_ns.fetch_add(ns, Ordering::Relaxed);
    }
}

/// One plugin's callback histograms, by callback name.
#[derive(Default)]
pub struct PluginCosts {
    callbacks: Mutex<BTreeMap<&'static str, Arc<Histogram>>>,
}

/// A callback's histogram, held by a VM so that recording takes no lock.
#[derive(Clone)]
pub struct CallbackCost(Arc<Histogram>);

impl CallbackCost {
    /// Records one call that took `took`.
    pub fn record(&self, took: Duration) {
        self.0.record(took);
    }
}

impl PluginCosts {
    /// The histogram of `callback` (created on first use).
    pub fn callback(&self, callback: &'static str) -> CallbackCost {
        let mut callbacks = self.callbacks.lock().unwrap_or_else(|e| e.into_inner());
        CallbackCost(callbacks.entry(callback).or_default().clone())
    }
}

/// Every plugin's costs, host-wide.
#[derive(Default)]
pub struct Costs {
    plugins: Mutex<BTreeMap<String, Arc<PluginCosts>>>,
    memory: Mutex<Vec<(String, Weak<AtomicU64>)>>,
}

impl Costs {
    /// The costs of plugin `name` (shared by all its VMs).
    pub fn plugin(&self, name: &str) -> Arc<PluginCosts> {
        let mut plugins = self.plugins.lock().unwrap_or_else(|e| e.into_inner());
        plugins.entry(name.to_string()).or_default().clone()
    }

    /// A cell a VM of plugin `name` keeps its linear memory size in; it counts while the VM
    /// holds it.
    pub fn memory_cell(&self, name: &str) -> Arc<AtomicU64> {
        let cell = Arc::new(AtomicU64::new(0));
        let mut memory = self.memory.lock().unwrap_or_else(|e| e.into_inner());
        memory.retain(|(_, weak)| weak.strong_count() > 0);
        memory.push((name.to_string(), Arc::downgrade(&cell)));
        cell
    }

    /// Appends `wasmesh_plugin_callback_seconds` and `wasmesh_plugin_memory_bytes` in
    /// Prometheus text format.
    pub fn render(&self, out: &mut String) {
        let name = "wasmesh_plugin_callback_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} Time spent in the guest, by plugin and callback.\n# TYPE {name} histogram"
        );
        let plugins = self
            .plugins
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        for (plugin, costs) in &plugins {
            let plugin = escape(plugin);
            let callbacks = costs
                .callbacks
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            for (callback, histogram) in &callbacks {
                let labels = format!("plugin=\"{plugin}\",callback=\"{callback}\"");
                let mut cumulative = 0;
                for (i, bound) in BOUNDS_US.iter().enumerate() {
                    cumulative += histogram.buckets[i].load(Ordering::Relaxed);
                    let le = *bound as f64 / 1e6;
                    let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{le}\"}} {cumulative}");
                }
                let count = histogram.count.load(Ordering::Relaxed);
                let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {count}");
                let sum = histogram.sum_ns.load(Ordering::Relaxed) as f64 / 1e9;
                let _ = writeln!(out, "{name}_sum{{{labels}}} {sum}");
                let _ = writeln!(out, "{name}_count{{{labels}}} {count}");
            }
        }
        let name = "wasmesh_plugin_memory_bytes";
        let _ = writeln!(
            out,
            "# HELP {name} Linear memory of the plugin's live VMs, summed over the workers.\n# TYPE {name} gauge"
        );
        let mut sums: BTreeMap<String, u64> = BTreeMap::new();
        let memory = self.memory.lock().unwrap_or_else(|e| e.into_inner());
        for (plugin, cell) in memory.iter() {
            if let Some(cell) = cell.upgrade() {
                *sums.entry(plugin.clone()).or_default() += cell.load(Ordering::Relaxed);
            }
        }
        for (plugin, bytes) in sums {
            let _ = writeln!(out, "{name}{{plugin=\"{}\"}} {bytes}", escape(&plugin));
        }
    }
}

fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callbacks_are_counted_in_cumulative_buckets_and_memory_in_live_vms() {
        let costs = Costs::default();
        let headers = costs.plugin("auth").callback("proxy_on_request_headers");
        headers.record(Duration::from_micros(3));
        headers.record(Duration::from_micros(700));
        let kept = costs.memory_cell("auth");
        kept.store(65536, Ordering::Relaxed);
        let gone = costs.memory_cell("auth");
        gone.store(1, Ordering::Relaxed);
        drop(gone);
        let mut out = String::new();
        costs.render(&mut out);
        let labels = "plugin=\"auth\",callback=\"proxy_on_request_headers\"";
        for line in [
            format!("wasmesh_plugin_callback_seconds_bucket{{{labels},le=\"0.000002\"}} 0"),
            format!("wasmesh_plugin_callback_seconds_bucket{{{labels},le=\"0.000005\"}} 1"),
            format!("wasmesh_plugin_callback_seconds_bucket{{{labels},le=\"0.001\"}} 2"),
            format!("wasmesh_plugin_callback_seconds_bucket{{{labels},le=\"+Inf\"}} 2"),
            format!("wasmesh_plugin_callback_seconds_sum{{{labels}}} 0.000703"),
            format!("wasmesh_plugin_callback_seconds_count{{{labels}}} 2"),
            "wasmesh_plugin_memory_bytes{plugin=\"auth\"} 65536".to_string(),
        ] {
            assert!(out.lines().any(|l| l == line), "{line} not in\n{out}");
        }
    }
}
