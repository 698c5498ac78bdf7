//! What each plugin costs, for its operator: the time each callback spends in the guest (a
//! histogram per plugin and callback) and the linear memory its VMs hold (a gauge per plugin,
//! summed over the workers' VMs). No other proxy-wasm host exposes these; Envoy has no
//! per-plugin time or memory.
//!
//! Each VM counts its callbacks in cells of its own, one per callback it has run, summed with
//! every other VM's at a scrape (the metric cells' design, `super::metrics::cells`): a cell has
//! one writer, so recording a call is plain loads and stores on cache lines no other worker
//! writes. One histogram shared by every worker's VMs took three atomic additions per callback
//! on lines all the workers bounced between their cores, twenty-odd callbacks per request
//! with three filters. Each VM publishes its memory size into a cell per plugin it runs, which
//! the registry holds weakly, so a VM that is gone stops counting: at the plugin's first
//! callback, then after any callback that grew the memory (growth goes through the store's
//! limiter, which notes it).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use super::metrics::cells::add_single_writer as add;

/// Upper bounds of the histogram's buckets, in microseconds (`+Inf` follows).
const BOUNDS_US: [u64; 14] = [
    1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 50_000,
];
/// Buckets, with `+Inf`.
const BUCKETS: usize = BOUNDS_US.len() + 1;

/// Time spent in one callback: one VM's cell, or what the VMs that are gone left. Aligned to
/// two cache lines (the adjacent-line prefetcher pairs them), so two VMs' cells never share one.
#[derive(Default)]
#[repr(align(128))]
struct Histogram {
    /// Non-cumulative counts per bucket; the last is `+Inf`.
    buckets: [AtomicU64; BUCKETS],
    count: AtomicU64,
    sum_ns: AtomicU64,
}

impl Histogram {
    /// Records one call, into a cell only its VM writes.
    fn record(&self, took: Duration) {
        let us = took.as_micros();
        let bucket = BOUNDS_US
            .iter()
            .position(|b| us <= u128::from(*b))
            .unwrap_or(BOUNDS_US.len());
        add(&self.buckets[bucket], 1);
        add(&self.count, 1);
        add(
            &self.sum_ns,
            u64::try_from(took.as_nanos()).unwrap_or(u64::MAX),
        );
    }

    /// Adds this histogram's counts to `totals`.
    fn add_to(&self, totals: &mut Totals) {
        for (total, bucket) in totals.buckets.iter_mut().zip(&self.buckets) {
            *total += bucket.load(Ordering::Relaxed);
        }
        totals.count += self.count.load(Ordering::Relaxed);
        totals.sum_ns += self.sum_ns.load(Ordering::Relaxed);
    }

    /// Adds `totals` to this histogram (the retired sums; written under the series' lock).
    fn absorb(&self, totals: &Totals) {
        for (bucket, total) in self.buckets.iter().zip(totals.buckets) {
            add(bucket, total);
        }
        add(&self.count, totals.count);
        add(&self.sum_ns, totals.sum_ns);
    }
}

/// A histogram's counts, read.
#[derive(Default, Clone, Copy)]
struct Totals {
    buckets: [u64; BUCKETS],
    count: u64,
    sum_ns: u64,
}

/// Every live VM's cell of one callback, and the sums of the VMs that are gone. A scrape sums
/// under the plugin's lock and a VM leaving folds its cell in under it, so no scrape sees a
/// cell both ways or neither.
#[derive(Default)]
struct Series {
    retired: Histogram,
    live: Vec<Arc<Histogram>>,
}

impl Series {
    fn totals(&self) -> Totals {
        let mut totals = Totals::default();
        self.retired.add_to(&mut totals);
        for cell in &self.live {
            cell.add_to(&mut totals);
        }
        totals
    }
}

/// One plugin's callback histograms, by callback name.
#[derive(Default)]
pub struct PluginCosts {
    callbacks: Mutex<BTreeMap<&'static str, Series>>,
}

/// One VM's cell for one callback of a plugin; when the VM drops it, its counts fold into the
/// plugin's.
pub struct CallbackCost {
    cell: Arc<Histogram>,
    plugin: Arc<PluginCosts>,
    callback: &'static str,
}

impl CallbackCost {
    /// Records one call that took `took`. Only the VM holding this cell may call it.
    pub fn record(&self, took: Duration) {
        self.cell.record(took);
    }
}

impl Drop for CallbackCost {
    fn drop(&mut self) {
        let mut callbacks = self.plugin.lock();
        if let Some(series) = callbacks.get_mut(self.callback) {
            series.live.retain(|cell| !Arc::ptr_eq(cell, &self.cell));
            let mut left = Totals::default();
            self.cell.add_to(&mut left);
            series.retired.absorb(&left);
        }
    }
}

impl PluginCosts {
    /// A new cell for `callback`, for one VM.
    pub fn callback(self: &Arc<Self>, callback: &'static str) -> CallbackCost {
        let cell = Arc::new(Histogram::default());
        self.lock()
            .entry(callback)
            .or_default()
            .live
            .push(cell.clone());
        CallbackCost {
            cell,
            plugin: self.clone(),
            callback,
        }
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<&'static str, Series>> {
        self.callbacks.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Each callback's counts so far, every VM's summed.
    fn totals(&self) -> Vec<(&'static str, Totals)> {
        let callbacks = self.lock();
        callbacks
            .iter()
            .map(|(callback, series)| (*callback, series.totals()))
            .collect()
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
            for (callback, totals) in costs.totals() {
                let labels = format!("plugin=\"{plugin}\",callback=\"{callback}\"");
                let mut cumulative = 0;
                for (i, bound) in BOUNDS_US.iter().enumerate() {
                    cumulative += totals.buckets[i];
                    let le = *bound as f64 / 1e6;
                    let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{le}\"}} {cumulative}");
                }
                let count = totals.count;
                let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {count}");
                let sum = totals.sum_ns as f64 / 1e9;
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
        let labels = "plugin=\"auth\",callback=\"proxy_on_request_headers\"";
        assert_rendered(
            &costs,
            &[
                format!("wasmesh_plugin_callback_seconds_bucket{{{labels},le=\"0.000002\"}} 0"),
                format!("wasmesh_plugin_callback_seconds_bucket{{{labels},le=\"0.000005\"}} 1"),
                format!("wasmesh_plugin_callback_seconds_bucket{{{labels},le=\"0.001\"}} 2"),
                format!("wasmesh_plugin_callback_seconds_bucket{{{labels},le=\"+Inf\"}} 2"),
                format!("wasmesh_plugin_callback_seconds_sum{{{labels}}} 0.000703"),
                format!("wasmesh_plugin_callback_seconds_count{{{labels}}} 2"),
                "wasmesh_plugin_memory_bytes{plugin=\"auth\"} 65536".to_string(),
            ],
        );
    }

    /// Asserts that `/metrics` has each of `lines`.
    fn assert_rendered(costs: &Costs, lines: &[String]) {
        let mut out = String::new();
        costs.render(&mut out);
        for line in lines {
            assert!(out.lines().any(|l| l == line), "{line} not in\n{out}");
        }
    }

    fn count_of(costs: &Costs, plugin: &str, callback: &str) -> u64 {
        let mut out = String::new();
        costs.render(&mut out);
        let series = format!(
            "wasmesh_plugin_callback_seconds_count{{plugin=\"{plugin}\",callback=\"{callback}\"}} "
        );
        out.lines()
            .find_map(|l| l.strip_prefix(series.as_str()))
            .map_or(0, |n| n.parse().expect("a count"))
    }

    #[test]
    fn each_vms_cell_adds_up_and_a_gone_vms_counts_stay() {
        let costs = Costs::default();
        let plugin = costs.plugin("auth");
        let first = plugin.callback("proxy_on_log");
        let second = plugin.callback("proxy_on_log");
        for _ in 0..3 {
            first.record(Duration::from_micros(4));
        }
        second.record(Duration::from_micros(40));
        assert_eq!(count_of(&costs, "auth", "proxy_on_log"), 4);
        drop(first);
        assert_eq!(count_of(&costs, "auth", "proxy_on_log"), 4);
        second.record(Duration::from_micros(40));
        drop(second);
        let labels = "plugin=\"auth\",callback=\"proxy_on_log\"";
        assert_rendered(
            &costs,
            &[
                format!("wasmesh_plugin_callback_seconds_bucket{{{labels},le=\"0.000005\"}} 3"),
                format!("wasmesh_plugin_callback_seconds_bucket{{{labels},le=\"0.00005\"}} 5"),
                format!("wasmesh_plugin_callback_seconds_sum{{{labels}}} 0.000092"),
                format!("wasmesh_plugin_callback_seconds_count{{{labels}}} 5"),
            ],
        );
    }

    #[test]
    fn a_scrape_never_sees_a_count_go_down_while_vms_leave() {
        let costs = Arc::new(Costs::default());
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let worker = {
            let (costs, done) = (costs.clone(), done.clone());
            std::thread::spawn(move || {
                let plugin = costs.plugin("p");
                let mut calls = 0;
                while !done.load(Ordering::Relaxed) {
                    let cell = plugin.callback("proxy_on_tick");
                    cell.record(Duration::from_micros(1));
                    calls += 1;
                }
                calls
            })
        };
        let mut last = 0;
        for _ in 0..2_000 {
            let now = count_of(&costs, "p", "proxy_on_tick");
            assert!(now >= last, "the count went from {last} down to {now}");
            last = now;
        }
        done.store(true, Ordering::Relaxed);
        let calls = worker.join().expect("the recording thread");
        assert_eq!(count_of(&costs, "p", "proxy_on_tick"), calls);
    }
}
