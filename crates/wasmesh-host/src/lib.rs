//! wasmesh-host: a proxy-wasm host on wasmtime that behaves like Envoy's, with no HTTP server
//! attached. The proxy (or a test harness) owns the connections and drives each VM through
//! [`runtime::PluginSlot`] and [`runtime::PluginVm`]; the VMs reach back only through the
//! hostcalls in [`abi`], which read and write the per-VM [`store::HostState`], the
//! process-wide stores in [`state`], and ask the program around them through its [`embedder`].
#![deny(missing_docs)]

pub mod abi;
pub mod chain;
pub mod connection_chain;
pub mod embedder;
pub mod entropy;
pub mod error;
pub mod headers;
pub mod plugin_info;
pub mod rollout;
pub mod runtime;
pub mod state;
pub mod store;
pub mod stream_info;
