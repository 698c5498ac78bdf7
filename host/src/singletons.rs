//! Singleton plugins: a plugin in no listener (or marked `singleton`) runs once in the
//! process, as Envoy's `envoy.bootstrap.wasm` singleton does, on [`SINGLETON_WORKER`]. Its
//! root context's ticks, queue callbacks and http calls run through the worker's effects pump
//! like any plugin's; what differs is that no stream ever uses it, so this module also does
//! what a filter's next request does after a VM failure: it rebuilds the VM.

use std::rc::Rc;
use std::time::Duration;

use wasmesh_host::runtime::PluginSlot;

/// The worker that runs every singleton's one VM. Envoy runs singletons on its main thread; a
/// worker's runtime already has what a root context needs (the effects pump, the cluster
/// pools for http calls, queue wake-ups), and worker 0 exists whatever `workers` says.
pub const SINGLETON_WORKER: usize = 0;

/// How often a singleton's slot is offered a rebuild. A filter's failed VM is rebuilt at its
/// next use; a singleton has none, so without this one trap would stop its ticks for good. The
/// slot's own backoff (100 ms doubling to 30 s) still decides when a rebuild happens.
const REBUILD_CHECK: Duration = Duration::from_millis(100);

/// Keeps `slot`'s VM up for as long as the slot lives (call on the worker's runtime).
pub fn keep_up(slot: &Rc<PluginSlot>) {
    let slot = Rc::downgrade(slot);
    tokio::task::spawn_local(async move {
        let mut interval = tokio::time::interval(REBUILD_CHECK);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            let Some(slot) = slot.upgrade() else { return };
            // A running VM is left as it is; a failed one is rebuilt once its backoff passed,
            // and the rebuilt root's `on_configure` starts its ticks again.
            let _ = slot.with_vm(|_| Ok(()));
        }
    });
}
