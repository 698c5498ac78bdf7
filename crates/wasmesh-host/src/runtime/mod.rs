//! Running wasm: the engine and its module cache, plugin factories
//! (a compiled module plus its configuration) and per-worker VMs with their
//! contexts. The ABI glue the guest calls lives in `crate::abi`, what a VM's store carries in
//! `crate::store`.

mod contexts;
pub mod engine;
pub mod module_cache;
pub mod plugin;
pub mod vm;

pub use engine::Runtime;
pub use plugin::{PluginFactory, PluginSlot};
pub use vm::{Action, Flow, PeerType, PluginVm, VmFailure};
