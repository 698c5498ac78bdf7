//! Running wasm: the engine and its module cache, plugin factories
//! (a compiled module plus its configuration) and per-worker VMs with their
//! contexts. The ABI glue the guest calls lives in `crate::abi`.

pub mod context_ids;
mod contexts;
pub mod engine;
pub mod entropy;
pub mod headers;
pub mod hooks;
pub mod host_state;
pub mod module_cache;
pub mod plugin;
pub mod time_cap;
pub mod vm;

pub use engine::Runtime;
pub use headers::HeaderMap;
pub use host_state::HostState;
pub use plugin::{PluginFactory, PluginSlot};
pub use vm::{Action, PluginVm, VmFailure};
