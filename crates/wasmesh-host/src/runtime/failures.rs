//! What counts a VM's failures and rebuilds, host-wide, for `/metrics`.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::state::labelled::LabelledCounter;

/// Counters of VM failures, host-wide, by kind (for `/metrics`).
pub struct VmFailureCounters {
    /// Failures of any kind.
    pub total: AtomicU64,
    /// VMs rebuilt after a failure.
    pub rebuilt: AtomicU64,
    /// Failures by (plugin, kind): which plugin fails and how (`timeout`, `memory_limit`, …).
    /// A lock is fine: it is taken only when a VM has just failed.
    by_kind: std::sync::Mutex<std::collections::BTreeMap<(String, &'static str), u64>>,
    /// Streams cut for spending more than `limits.request_cpu_ms` in a plugin, by plugin. Not
    /// VM failures (the VM is fine and serves on), but counted beside them.
    pub request_cpu_exceeded: LabelledCounter,
    /// `rebuilt` by plugin: which plugin keeps being rebuilt.
    pub rebuilt_by_plugin: LabelledCounter,
}

impl Default for VmFailureCounters {
    fn default() -> Self {
        VmFailureCounters {
            total: AtomicU64::new(0),
            rebuilt: AtomicU64::new(0),
            by_kind: Default::default(),
            request_cpu_exceeded: LabelledCounter::new(
                "wasmesh_request_cpu_exceeded_total",
                "Streams given the plugin's fail_open outcome for spending more than limits.request_cpu_ms in it.",
                "plugin",
            ),
            rebuilt_by_plugin: LabelledCounter::new(
                "wasmesh_vm_rebuilds_by_plugin_total",
                "Wasm VMs rebuilt after a failure, by plugin.",
                "plugin",
            ),
        }
    }
}

impl VmFailureCounters {
    /// Counts a failure of `plugin`'s VM.
    pub fn record(&self, plugin: &str, kind: &'static str) {
        self.total.fetch_add(1, Ordering::Relaxed);
        let mut by_kind = self.by_kind.lock().unwrap_or_else(|e| e.into_inner());
        *by_kind.entry((plugin.to_string(), kind)).or_default() += 1;
    }

    /// Failures by (plugin, kind), sorted.
    pub fn by_kind(&self) -> Vec<(String, &'static str, u64)> {
        let by_kind = self.by_kind.lock().unwrap_or_else(|e| e.into_inner());
        by_kind
            .iter()
            .map(|((plugin, kind), n)| (plugin.clone(), *kind, *n))
            .collect()
    }
}
