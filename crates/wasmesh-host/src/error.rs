//! The errors of the host's API, one type per thing that can fail: starting the engine,
//! loading a module, starting a plugin. A wasmtime error inside one is kept whole (its
//! message names the cause: an unknown import, a trap in a start function).

use std::path::PathBuf;

use crate::runtime::VmFailure;

/// The engine could not start.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// `WASMESH_PROFILE` names no profiler.
    #[error("WASMESH_PROFILE={0:?}: the only profiler is \"perfmap\"")]
    Profiler(String),
    /// wasmtime refused the configuration.
    #[error("creating the wasm engine: {0}")]
    Engine(wasmtime::Error),
    /// The thread that advances the epoch (the time cap's clock) could not start.
    #[error("starting the epoch thread: {0}")]
    EpochThread(std::io::Error),
}

/// A module could not be read, compiled, checked or linked.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("reading wasm module {}: {error}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// The bytes do not start with wasm's magic number.
    #[error("{name} is not a wasm module (bad magic number)")]
    NotWasm {
        /// Where the bytes came from.
        name: String,
    },
    /// Cranelift refused the module.
    #[error("compiling {name}: {error}")]
    Compile {
        /// Where the bytes came from.
        name: String,
        /// wasmtime's reason.
        error: wasmtime::Error,
    },
    /// The module was built against proxy-wasm ABI 0.1.0.
    #[error("proxy-wasm ABI 0.1.0 is not supported; rebuild against ABI 0.2.x")]
    OldAbi,
    /// The module exports no proxy-wasm ABI marker.
    #[error(
        "not a proxy-wasm module: it exports no ABI marker (proxy_abi_version_0_2_1 or _0_2_0)"
    )]
    NoAbiMarker,
    /// The module exports no memory for the host to pass data through.
    #[error("module exports no `memory`")]
    NoMemory,
    /// An import the host does not offer, or one with another signature.
    #[error("linking: {0}")]
    Link(wasmtime::Error),
    /// One of the above, for the module at `path`.
    #[error("module {}: {error}", path.display())]
    InModule {
        /// The module's file.
        path: PathBuf,
        /// What went wrong with it.
        error: Box<LoadError>,
    },
}

/// A plugin's VM could not be started: instantiating it, its start function, or its
/// `proxy_on_context_create`, `proxy_on_vm_start` or `proxy_on_configure` failed or refused.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// wasmtime could not instantiate the module (a memory over the cap, a trapping data
    /// segment).
    #[error("instantiating plugin {plugin:?}: {error:#}")]
    Instantiate {
        /// The plugin's name.
        plugin: String,
        /// wasmtime's reason.
        error: wasmtime::Error,
    },
    /// An export the host calls has the wrong signature, or there is no allocator.
    #[error("plugin {plugin:?}: {error}")]
    Exports {
        /// The plugin's name.
        plugin: String,
        /// Which export.
        error: ExportError,
    },
    /// `_initialize`, `main` or `_start` failed.
    #[error("plugin {plugin:?} start: {failure}")]
    StartFunction {
        /// The plugin's name.
        plugin: String,
        /// How it failed.
        failure: VmFailure,
    },
    /// A lifecycle callback failed.
    #[error("plugin {plugin:?}: {failure}")]
    Callback {
        /// The plugin's name.
        plugin: String,
        /// How it failed.
        failure: VmFailure,
    },
    /// `proxy_on_vm_start` answered false.
    #[error("plugin {plugin:?}: proxy_on_vm_start returned false")]
    VmStartRefused {
        /// The plugin's name.
        plugin: String,
    },
    /// `proxy_on_configure` answered false: the plugin refused its configuration.
    #[error(
        "plugin {plugin:?}: proxy_on_configure returned false (its configuration was rejected; \
         see the plugin's log above)"
    )]
    ConfigureRefused {
        /// The plugin's name.
        plugin: String,
    },
}

/// An export the host needs is unusable.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// A `proxy_on_*` callback with another signature than the ABI's.
    #[error("export `{export}` has the wrong signature: {error}")]
    WrongSignature {
        /// The export's name.
        export: &'static str,
        /// wasmtime's reason.
        error: wasmtime::Error,
    },
    /// `proxy_on_memory_allocate` or `malloc` with another signature than `(i32) -> i32`.
    #[error("allocator export has the wrong signature: {0}")]
    Allocator(wasmtime::Error),
    /// Neither allocator is exported, so the host cannot hand data to the guest.
    #[error("module exports neither `proxy_on_memory_allocate` nor `malloc`")]
    NoAllocator,
}
