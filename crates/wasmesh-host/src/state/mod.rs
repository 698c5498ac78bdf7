//! Process-wide stores that every worker and every VM share: shared data,
//! shared queues, the metric registry and what each plugin costs. No ABI code lives here: these are
//! plain data structures with the semantics the proxy-wasm spec asks for.

pub mod costs;
pub mod labelled;
pub mod metrics;
pub mod queues;
pub mod refusal;
pub mod shared_data;

use std::sync::Arc;

/// Everything host-wide, cloned into every VM's host state.
#[derive(Default)]
pub struct SharedState {
    /// `proxy_get/set_shared_data`, scoped by VM id.
    pub shared_data: shared_data::SharedData,
    /// `proxy_*_shared_queue`, scoped by VM id.
    pub queues: queues::SharedQueues,
    /// Filter-defined and host metrics.
    pub metrics: metrics::Registry,
    /// Time in each plugin's callbacks and its VMs' memory.
    pub costs: costs::Costs,
}

impl SharedState {
    /// A fresh, empty set of stores.
    pub fn new() -> Arc<SharedState> {
        Arc::new(SharedState::default())
    }

    /// Guest writes each store refused for a total cap, for
    /// `wasmesh_guest_state_refused_total{kind}`.
    pub fn refusals(&self) -> [&refusal::Refusals; 3] {
        [
            &self.shared_data.refused,
            &self.metrics.refused,
            &self.queues.refused,
        ]
    }
}
