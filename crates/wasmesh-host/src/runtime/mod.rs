//! Running wasm: the engine and its module cache, plugin factories
//! (a compiled module plus its configuration) and per-worker VMs, which the
//! plugins with the same VM key share, each with a root context of its own. The ABI glue the guest calls lives in `crate::abi`, what a VM's store carries in
//! `crate::store`.

mod contexts;
pub mod engine;
pub mod failures;
pub mod module_cache;
pub mod plugin;
pub mod slot;
pub mod vm;
pub mod worker_vm;

pub use contexts::RootStartError;
pub use engine::Runtime;
pub use plugin::{PluginFactory, VmKey};
pub use slot::PluginSlot;
pub use vm::{Action, Flow, PeerType, PluginVm, VmFailure};
pub use worker_vm::WorkerVm;
