//! Counting and logging the guest writes a store refused for a total cap, so an operator sees
//! a filter that floods the host's state (`wasmesh_guest_state_refused_total{kind}`) without the
//! log being flooded too: each kind is logged once, the metric counts every refusal.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Refusals of one kind of guest state (`shared_data`, `metrics`, `queues`).
pub struct Refusals {
    kind: &'static str,
    count: AtomicU64,
    logged: AtomicBool,
}

impl Refusals {
    /// No refusals yet, of `kind` (the metric's label).
    pub const fn new(kind: &'static str) -> Refusals {
        Refusals {
            kind,
            count: AtomicU64::new(0),
            logged: AtomicBool::new(false),
        }
    }

    /// Counts one refusal; logs the first one of this kind, naming the cap and the VM id.
    pub fn refuse(&self, vm_id: &str, cap: &str) {
        self.count.fetch_add(1, Ordering::Relaxed);
        if !self.logged.swap(true, Ordering::Relaxed) {
            log::warn!(
                "guest state refused ({kind}, vm_id {vm_id:?}): {cap}; further refusals of this \
                 kind are only counted in wasmesh_guest_state_refused_total",
                kind = self.kind
            );
        }
    }

    /// The metric label.
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// Refusals so far.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }
}
