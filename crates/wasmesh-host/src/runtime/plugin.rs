//! A plugin: its compiled module linked against the host ABI
//! ([`PluginFactory`], shared by all workers) and its live VM on one worker
//! ([`PluginSlot`]), rebuilt after a failure with backoff so a module that
//! keeps crashing is not rebuilt in a hot loop.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::path::Path;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::{InstancePre, Linker, Module, Store, StoreLimitsBuilder};

use super::engine::Runtime;
use super::vm::{PluginVm, VmFailure};
use crate::embedder::{ProcessEmbedder, SharedEmbedder};
use crate::error::{LoadError, StartError};
use crate::plugin_info::PluginInfo;
use crate::state::labelled::LabelledCounter;
use crate::state::SharedState;
use crate::store::context_ids::ContextIds;
use crate::store::{Effects, HostState};

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

    /// Instantiates the module, runs its start function, creates the root
    /// context and passes `on_vm_start` and `on_configure`.
    pub fn instantiate(
        &self,
        queue_waker: Arc<dyn Fn(u32) + Send + Sync>,
    ) -> Result<PluginVm, StartError> {
        let plugin = || self.info.label();
        let limits = StoreLimitsBuilder::new()
            .memory_size(self.info.memory_bytes)
            .trap_on_grow_failure(true)
            .instances(1)
            .build();
        let state = HostState {
            plugin: self.info.clone(),
            shared: self.shared.clone(),
            limits,
            alloc: None,
            memory: None,
            active_context: 0,
            root_context: 0,
            streams: HashMap::new(),
            starting: false,
            declared_properties: HashMap::new(),
            call_response: None,
            effects: Effects::default(),
            grpc: Default::default(),
            grpc_received: None,
            ids: ContextIds::default(),
            calls_in_flight: std::collections::HashSet::new(),
            queue_waker,
            pending_done: std::collections::HashSet::new(),
            metric_cells: Default::default(),
            time_cap: Default::default(),
            embedder: self.embedder.clone(),
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
        let callback = |failure| StartError::Callback {
            plugin: plugin(),
            failure,
        };
        let root = vm.state().fresh_id();
        vm.state().root_context = root;
        vm.on_context_create(root, 0).map_err(callback)?;
        let vm_config_len = self.info.vm_config.len() as u32;
        if !vm.on_vm_start(root, vm_config_len).map_err(callback)? {
            return Err(StartError::VmStartRefused { plugin: plugin() });
        }
        let config_len = self.info.configuration.len() as u32;
        if !vm.on_configure(root, config_len).map_err(callback)? {
            return Err(StartError::ConfigureRefused { plugin: plugin() });
        }
        Ok(vm)
    }
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

/// Counters of VM failures, host-wide, by kind (for `/metrics`).
pub struct VmFailureCounters {
    /// Failures of any kind.
    pub total: AtomicU64,
    /// VMs rebuilt after a failure.
    pub rebuilt: AtomicU64,
    /// Failures by (plugin, kind): which plugin fails and how (`timeout`, `memory_limit`, …).
    /// A lock is fine: it is taken only when a VM has just failed.
    by_kind: std::sync::Mutex<std::collections::BTreeMap<(String, &'static str), u64>>,
    /// Streams cut for spending more than `limits.request_cpu_ms` in a plugin, by plugin. Not
    /// VM failures (the VM is fine and serves on), but counted beside them.
    pub request_cpu_exceeded: LabelledCounter,
    /// `rebuilt` by plugin: which plugin keeps being rebuilt.
    pub rebuilt_by_plugin: LabelledCounter,
}

impl Default for VmFailureCounters {
    fn default() -> Self {
        VmFailureCounters {
            total: AtomicU64::new(0),
            rebuilt: AtomicU64::new(0),
            by_kind: Default::default(),
            request_cpu_exceeded: LabelledCounter::new(
                "wasmesh_request_cpu_exceeded_total",
                "Streams given the plugin's fail_open outcome for spending more than limits.request_cpu_ms in it.",
                "plugin",
            ),
            rebuilt_by_plugin: LabelledCounter::new(
                "wasmesh_vm_rebuilds_by_plugin_total",
                "Wasm VMs rebuilt after a failure, by plugin.",
                "plugin",
            ),
        }
    }
}

impl VmFailureCounters {
    /// Counts a failure of `plugin`'s VM.
    pub fn record(&self, plugin: &str, kind: &'static str) {
        self.total.fetch_add(1, Ordering::Relaxed);
        let mut by_kind = self.by_kind.lock().unwrap_or_else(|e| e.into_inner());
        *by_kind.entry((plugin.to_string(), kind)).or_default() += 1;
    }

    /// Failures by (plugin, kind), sorted.
    pub fn by_kind(&self) -> Vec<(String, &'static str, u64)> {
        let by_kind = self.by_kind.lock().unwrap_or_else(|e| e.into_inner());
        by_kind
            .iter()
            .map(|((plugin, kind), n)| (plugin.clone(), *kind, *n))
            .collect()
    }
}

/// Shortest and longest wait before rebuilding a VM that keeps failing.
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(30);

/// A plugin's VM on one worker, with its rebuild policy.
pub struct PluginSlot {
    /// What to build the VM from.
    pub factory: Arc<PluginFactory>,
    /// The plugin's name in logs and host-side metrics ([`PluginInfo::label`]).
    label: String,
    vm: RefCell<Option<PluginVm>>,
    /// Bumped when the VM is replaced, so contexts of an older VM are recognised.
    generation: Cell<u64>,
    consecutive_failures: Cell<u32>,
    retry_at: Cell<Option<Instant>>,
    queue_waker: Arc<dyn Fn(u32) + Send + Sync>,
    counters: Arc<VmFailureCounters>,
    effects_ready: Rc<tokio::sync::Notify>,
}

impl PluginSlot {
    /// A slot whose VM is created now (an error means the plugin cannot start).
    pub fn new(
        factory: Arc<PluginFactory>,
        queue_waker: Arc<dyn Fn(u32) + Send + Sync>,
        counters: Arc<VmFailureCounters>,
    ) -> Result<Rc<PluginSlot>, StartError> {
        let vm = factory.instantiate(queue_waker.clone())?;
        let slot = Rc::new(PluginSlot {
            label: factory.info.label(),
            factory,
            vm: RefCell::new(Some(vm)),
            generation: Cell::new(1),
            consecutive_failures: Cell::new(0),
            retry_at: Cell::new(None),
            queue_waker,
            counters,
            effects_ready: Rc::new(tokio::sync::Notify::new()),
        });
        // on_vm_start / on_configure may have set a timer already.
        slot.effects_ready.notify_one();
        Ok(slot)
    }

    /// Current VM generation.
    pub fn generation(&self) -> u64 {
        self.generation.get()
    }

    /// The plugin's name for logs and host-side metrics (`<name>@canary` for a canary).
    pub fn name(&self) -> &str {
        &self.label
    }

    /// Runs `f` on the VM when one is up (rebuilding a failed one if its backoff
    /// has passed). `None` when no VM is available; `Some(Err)` when `f` failed,
    /// after which the VM is torn down.
    pub fn with_vm<R>(
        &self,
        f: impl FnOnce(&mut PluginVm) -> Result<R, VmFailure>,
    ) -> Option<Result<R, VmFailure>> {
        self.ensure_vm();
        let mut guard = self.vm.borrow_mut();
        let vm = guard.as_mut()?;
        let result = f(vm);
        if result.is_ok() && !vm.state().effects.is_empty() {
            self.effects_ready.notify_one();
        }
        if let Err(failure) = &result {
            log::error!(
                "plugin {:?}: VM failed, it will be rebuilt: {failure}",
                self.label
            );
            self.counters.record(&self.label, failure.kind);
            if let Some(dead) = guard.take() {
                wake_all_streams(dead);
            }
            let failures = self.consecutive_failures.get() + 1;
            self.consecutive_failures.set(failures);
            let backoff = BACKOFF_MIN
                .saturating_mul(1 << failures.min(16).saturating_sub(1))
                .min(BACKOFF_MAX);
            self.retry_at.set(Some(
                Instant::now()
                    + if failures <= 1 {
                        Duration::ZERO
                    } else {
                        backoff
                    },
            ));
            self.generation.set(self.generation.get() + 1);
        }
        Some(result)
    }

    /// Like [`PluginSlot::with_vm`] but only on the VM of `generation`.
    pub fn with_vm_of<R>(
        &self,
        generation: u64,
        f: impl FnOnce(&mut PluginVm) -> Result<R, VmFailure>,
    ) -> Option<Result<R, VmFailure>> {
        if generation != self.generation.get() || self.vm.borrow().is_none() {
            return None;
        }
        self.with_vm(f)
    }

    fn ensure_vm(&self) {
        if self.vm.borrow().is_some() {
            return;
        }
        if let Some(at) = self.retry_at.get() {
            if Instant::now() < at {
                return;
            }
        }
        match self.factory.instantiate(self.queue_waker.clone()) {
            Ok(vm) => {
                log::info!("plugin {:?}: VM rebuilt", self.label);
                self.counters.rebuilt.fetch_add(1, Ordering::Relaxed);
                (self.counters.rebuilt_by_plugin).inc(&self.label);
                *self.vm.borrow_mut() = Some(vm);
                self.retry_at.set(None);
                self.effects_ready.notify_one();
            }
            Err(e) => {
                let failures = self.consecutive_failures.get() + 1;
                self.consecutive_failures.set(failures);
                let backoff = BACKOFF_MIN
                    .saturating_mul(1 << failures.min(16))
                    .min(BACKOFF_MAX);
                log::error!(
                    "plugin {:?}: rebuilding the VM failed, next try in {backoff:?}: {e:#}",
                    self.label
                );
                self.retry_at.set(Some(Instant::now() + backoff));
            }
        }
    }

    /// A stream spent more than `limits.request_cpu_ms` in this plugin: count it.
    pub fn request_cpu_exceeded(&self) {
        self.counters.request_cpu_exceeded.inc(self.name());
    }

    /// A request went through this VM without failure: reset the backoff.
    pub fn mark_healthy(&self) {
        self.consecutive_failures.set(0);
    }

    /// Woken when callbacks left effects (timers, HTTP calls, gRPC commands) to apply.
    pub fn effects_ready(&self) -> Rc<tokio::sync::Notify> {
        self.effects_ready.clone()
    }

    /// Takes the effects the last callbacks asked for.
    pub fn take_effects(&self) -> Effects {
        match self.vm.borrow_mut().as_mut() {
            Some(vm) => std::mem::take(&mut vm.state().effects),
            None => Effects::default(),
        }
    }
}

impl Drop for PluginSlot {
    /// A replaced generation's VM is told it is done (`on_done`, `on_delete` of its root context).
    fn drop(&mut self) {
        if let Some(vm) = self.vm.get_mut().as_mut() {
            let root = vm.state().root_context;
            if let Err(e) = vm.finish_context(root, false) {
                log::warn!("plugin {:?}: shutting the VM down: {e}", self.label);
            }
        }
    }
}

/// Streams paused on a VM that just died must wake up and take the fail outcome.
fn wake_all_streams(mut dead: PluginVm) {
    for stream in dead.state().streams.values() {
        stream.wake();
    }
}
