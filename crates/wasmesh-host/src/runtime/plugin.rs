//! A plugin's compiled module linked against the host ABI ([`PluginFactory`], shared by all
//! workers), which instantiates its VMs, and the key that says which plugins share one.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use wasmtime::{InstancePre, Linker, Module, Store, StoreLimitsBuilder};

use super::engine::Runtime;
use super::vm::PluginVm;
use crate::embedder::{ProcessEmbedder, SharedEmbedder};
use crate::error::{LoadError, StartError};
use crate::plugin_info::PluginInfo;
use crate::state::SharedState;
use crate::store::context_ids::ContextIds;
use crate::store::memory_limits::MemoryLimits;
use crate::store::{Effects, HostState, QueueDispatch};

/// The ABI markers we accept (0.2.1, and 0.2.0 whose HTTP callbacks are the same).
const ABI_MARKERS: &[&str] = &["proxy_abi_version_0_2_1", "proxy_abi_version_0_2_0"];

/// A compiled, linked plugin ready to be instantiated on any worker.
pub struct PluginFactory {
    /// Facts shared by every VM.
    pub info: Arc<PluginInfo>,
    /// Host-wide stores.
    pub shared: Arc<SharedState>,
    pre: InstancePre<HostState>,
    engine: wasmtime::Engine,
    embedder: SharedEmbedder,
    /// The module file's sha256 (hex), when it was loaded from a file: which build of the
    /// plugin runs, as an operator compares it with a release's digest.
    module_sha256: Option<String>,
}

impl PluginFactory {
    /// Loads (or takes from the cache) the module at `wasm` and links it; checks the ABI marker.
    pub fn new(
        runtime: &Runtime,
        shared: Arc<SharedState>,
        wasm: &Path,
        info: PluginInfo,
    ) -> Result<Arc<PluginFactory>, LoadError> {
        let bytes = std::fs::read(wasm).map_err(|error| LoadError::Read {
            path: wasm.to_path_buf(),
            error,
        })?;
        let module = runtime.compile(&bytes, &wasm.display().to_string())?;
        let sha256 = super::module_cache::sha256_hex(&bytes);
        PluginFactory::link(runtime, shared, &module, info, Some(sha256)).map_err(|error| {
            LoadError::InModule {
                path: wasm.to_path_buf(),
                error: Box::new(error),
            }
        })
    }

    /// Compiles `bytes` (a module fetched from `origin`, a URL say) and links it; checks the
    /// ABI marker.
    pub fn from_bytes(
        runtime: &Runtime,
        shared: Arc<SharedState>,
        bytes: &[u8],
        origin: &str,
        info: PluginInfo,
    ) -> Result<Arc<PluginFactory>, LoadError> {
        let module = runtime.compile(bytes, origin)?;
        let sha256 = super::module_cache::sha256_hex(bytes);
        PluginFactory::link(runtime, shared, &module, info, Some(sha256))
    }

    /// Links a compiled module ([`Runtime::compile`]); checks the ABI marker.
    pub fn from_module(
        runtime: &Runtime,
        shared: Arc<SharedState>,
        module: &Module,
        info: PluginInfo,
    ) -> Result<Arc<PluginFactory>, LoadError> {
        PluginFactory::link(runtime, shared, module, info, None)
    }

    fn link(
        runtime: &Runtime,
        shared: Arc<SharedState>,
        module: &Module,
        info: PluginInfo,
        module_sha256: Option<String>,
    ) -> Result<Arc<PluginFactory>, LoadError> {
        check_exports(module)?;
        let mut linker: Linker<HostState> = Linker::new(&runtime.engine);
        crate::abi::add_to_linker(&mut linker).map_err(LoadError::Link)?;
        let pre = linker.instantiate_pre(module).map_err(LoadError::Link)?;
        let info = Arc::new(info);
        Ok(Arc::new(PluginFactory {
            info,
            shared,
            pre,
            engine: runtime.engine.clone(),
            embedder: Arc::new(ProcessEmbedder),
            module_sha256,
        }))
    }

    /// The module file's sha256 (hex); `None` for a module compiled from bytes in memory.
    pub fn module_sha256(&self) -> Option<&str> {
        self.module_sha256.as_deref()
    }

    /// Whether `other` is this plugin as it was: the same module and the same facts (names,
    /// configurations, limits, clusters). A reload keeps such a plugin's factory, so every
    /// worker keeps its VMs and what they hold.
    pub fn same_plugin_as(&self, other: &PluginFactory) -> bool {
        self.module_sha256.is_some()
            && self.module_sha256 == other.module_sha256
            && *self.info == *other.info
    }

    /// The same plugin over other host-wide stores: a trial instance runs against a scratch
    /// [`SharedState`], so a configuration that is then rejected leaves no shared data, queue
    /// or metric behind in the live one.
    pub fn with_shared(&self, shared: Arc<SharedState>) -> PluginFactory {
        PluginFactory {
            info: self.info.clone(),
            shared,
            pre: self.pre.clone(),
            engine: self.engine.clone(),
            embedder: self.embedder.clone(),
            module_sha256: self.module_sha256.clone(),
        }
    }

    /// The same plugin in another embedder (a test harness's, which keeps the log lines and
    /// sets the time). A factory starts with [`ProcessEmbedder`].
    pub fn with_embedder(&self, embedder: SharedEmbedder) -> PluginFactory {
        PluginFactory {
            info: self.info.clone(),
            shared: self.shared.clone(),
            pre: self.pre.clone(),
            engine: self.engine.clone(),
            embedder,
            module_sha256: self.module_sha256.clone(),
        }
    }

    /// Instantiates the module, runs its start function and starts the plugin's root context
    /// (`on_context_create`, `on_vm_start`, `on_configure`): a VM that runs this plugin alone.
    pub fn instantiate(&self, queue_waker: QueueDispatch) -> Result<PluginVm, StartError> {
        let mut vm = self.instantiate_module(queue_waker)?;
        vm.start_root(self.info.clone())
            .map_err(|e| e.for_plugin(self.info.label()))?;
        Ok(vm)
    }

    /// Instantiates the module and runs its start function: a VM with no root context yet,
    /// which [`PluginVm::start_root`] gives one per plugin it runs. Its limits (memory, the
    /// callback time cap) are this plugin's, which every plugin sharing it has
    /// ([`PluginFactory::vm_key`]).
    pub fn instantiate_module(&self, queue_waker: QueueDispatch) -> Result<PluginVm, StartError> {
        let plugin = || self.info.label();
        let limits = StoreLimitsBuilder::new()
            .memory_size(self.info.memory_bytes)
            .trap_on_grow_failure(true)
            .instances(1)
            .build();
        let state = HostState {
            plugin: self.info.clone(),
            shared: self.shared.clone(),
            limits: MemoryLimits::new(limits),
            alloc: None,
            memory: None,
            scratch: Vec::new(),
            active_context: 0,
            root_context: 0,
            roots: Default::default(),
            streams: Default::default(),
            starting: false,
            declared_properties: HashMap::new(),
            call_response: None,
            effects: Effects::default(),
            grpc: Default::default(),
            grpc_received: None,
            ids: ContextIds::default(),
            calls_in_flight: Default::default(),
            queue_waker,
            pending_done: Default::default(),
            metric_cells: Default::default(),
            time_cap: Default::default(),
            embedder: self.embedder.clone(),
            expressions: Default::default(),
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limits);
        store.epoch_deadline_callback(|mut store| Ok(store.data_mut().time_cap.on_deadline()));
        store.set_epoch_deadline(1000);
        let instance =
            self.pre
                .instantiate(&mut store)
                .map_err(|error| StartError::Instantiate {
                    plugin: plugin(),
                    error,
                })?;
        let mut vm = PluginVm::new(store, instance).map_err(|error| StartError::Exports {
            plugin: plugin(),
            error,
        })?;
        vm.run_start(&instance)
            .map_err(|failure| StartError::StartFunction {
                plugin: plugin(),
                failure,
            })?;
        Ok(vm)
    }

    /// Which VM on a worker this plugin runs in: plugins with the same key share one instance
    /// of the module, each with a root context of its own, as Envoy shares a VM between the
    /// plugins with the same VM id, VM configuration and module. The key also holds what
    /// wasmesh sets per VM (the memory cap and the callback time cap), and keeps a canary out
    /// of its stable version's VM (a canary's failure must not fail the stable version).
    /// `None` for a module compiled from memory, which shares with nothing.
    pub fn vm_key(&self) -> Option<VmKey> {
        Some(VmKey {
            module_sha256: self.module_sha256.clone()?,
            vm_id: self.info.vm_id.clone(),
            vm_config: self.info.vm_config.clone(),
            memory_bytes: self.info.memory_bytes,
            callback_time: self.info.callback_time,
            canary: self.info.version.as_deref() == Some("canary"),
        })
    }
}

/// What plugins must have in common to share a VM ([`PluginFactory::vm_key`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VmKey {
    module_sha256: String,
    vm_id: String,
    vm_config: Vec<u8>,
    memory_bytes: usize,
    callback_time: Duration,
    canary: bool,
}

fn check_exports(module: &Module) -> Result<(), LoadError> {
    let names: Vec<&str> = module.exports().map(|e| e.name()).collect();
    if !names.iter().any(|n| ABI_MARKERS.contains(n)) {
        if names.contains(&"proxy_abi_version_0_1_0") {
            return Err(LoadError::OldAbi);
        }
        return Err(LoadError::NoAbiMarker);
    }
    if !names.contains(&"memory") {
        return Err(LoadError::NoMemory);
    }
    Ok(())
}
