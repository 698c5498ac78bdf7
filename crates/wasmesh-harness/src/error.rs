//! What can go wrong while a test drives a filter.

use wasmesh_host::error::{EngineError, LoadError, StartError};
use wasmesh_host::runtime::VmFailure;

use crate::embedder::LogLine;

/// A failure of the harness or of the filter under test.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// The wasm engine could not start.
    #[error("starting the engine: {0}")]
    Engine(#[from] EngineError),
    /// The module could not be read, compiled or linked (not proxy-wasm, a missing export, an
    /// import the host does not offer).
    #[error("loading the module: {0}")]
    Load(#[from] LoadError),
    /// The VM started but `proxy_on_vm_start` or `proxy_on_configure` refused, or trapped.
    /// `logs` holds what the guest logged meanwhile: a filter says there why it refused its
    /// configuration.
    #[error("starting the plugin: {reason}{}", show(logs))]
    Start {
        /// What the host saw.
        reason: StartError,
        /// The guest's log lines up to then.
        logs: Vec<LogLine>,
    },
    /// A callback trapped, ran past its time cap, exhausted its memory or answered a status the
    /// ABI does not define. In a proxy the VM would be rebuilt; here the plugin stays failed, so
    /// the test sees the first failure and nothing after it.
    #[error("the VM failed: {0}")]
    VmFailed(VmFailure),
    /// A call after the VM failed.
    #[error("the VM failed earlier and cannot be called again: {0}")]
    VmDead(VmFailure),
}

fn show(logs: &[LogLine]) -> String {
    logs.iter()
        .map(|line| format!("\n  guest {}: {}", line.level, line.message))
        .collect()
}
