//! A plugin under test: one VM of the module, with stores and an embedder of its own.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use wasmesh_host::plugin_info::PluginInfo;
use wasmesh_host::runtime::{PluginFactory, PluginVm, Runtime, VmFailure};
use wasmesh_host::state::metrics::MetricKind;
use wasmesh_host::state::SharedState;

use crate::calls::HttpCall;
use crate::embedder::{LogLine, TestEmbedder};
use crate::error::HarnessError;
use crate::grpc::GrpcRequest;

enum Source {
    File(PathBuf),
    Bytes(Vec<u8>),
}

/// How to start a [`Plugin`]: its module, configuration and the host facts it reads.
pub struct PluginBuilder {
    source: Source,
    info: PluginInfo,
    clusters: Vec<String>,
    time: SystemTime,
    properties: HashMap<String, Vec<u8>>,
}

impl PluginBuilder {
    fn new(source: Source) -> PluginBuilder {
        PluginBuilder {
            source,
            info: PluginInfo {
                name: "plugin".into(),
                root_id: String::new(),
                vm_id: String::new(),
                vm_config: Vec::new(),
                configuration: Vec::new(),
                fail_open: false,
                memory_bytes: 64 << 20,
                callback_time: Duration::from_millis(100),
                request_cpu: None,
                clusters: Arc::new(Vec::new()),
                version: None,
            },
            clusters: Vec::new(),
            time: SystemTime::now(),
            properties: HashMap::new(),
        }
    }

    /// `plugin_name` (default `plugin`).
    pub fn name(mut self, name: &str) -> Self {
        self.info.name = name.into();
        self
    }

    /// `plugin_root_id` (default empty).
    pub fn root_id(mut self, root_id: &str) -> Self {
        self.info.root_id = root_id.into();
        self
    }

    /// `plugin_vm_id`, the scope of shared data and queues (default empty).
    pub fn vm_id(mut self, vm_id: &str) -> Self {
        self.info.vm_id = vm_id.into();
        self
    }

    /// The bytes `proxy_on_configure` reads (a JSON document, usually).
    pub fn configuration(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.info.configuration = bytes.into();
        self
    }

    /// The bytes `proxy_on_vm_start` reads.
    pub fn vm_config(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.info.vm_config = bytes.into();
        self
    }

    /// A cluster `proxy_http_call` may name (others are refused with `BadArgument`, as in
    /// Envoy).
    pub fn cluster(mut self, name: &str) -> Self {
        self.clusters.push(name.into());
        self
    }

    /// The VM's linear memory cap (default 64 MiB).
    pub fn memory_limit(mut self, bytes: usize) -> Self {
        self.info.memory_bytes = bytes;
        self
    }

    /// The per-callback time cap (default 100 ms, in CPU time).
    pub fn callback_time(mut self, cap: Duration) -> Self {
        self.info.callback_time = cap;
        self
    }

    /// The time the guest's clock starts at (default: now). It moves only when the test
    /// calls [`Plugin::advance`].
    pub fn time(mut self, time: SystemTime) -> Self {
        self.time = time;
        self
    }

    /// A property the proxy around the filter would answer in every context, by its dotted
    /// path (`node.id`, `node.metadata.region`), with the bytes the guest reads: what Envoy
    /// takes from its bootstrap. The plugin's own (`plugin_name`, ...) and a stream's facts
    /// come first.
    pub fn property(mut self, path: &str, value: impl Into<Vec<u8>>) -> Self {
        self.properties.insert(path.into(), value.into());
        self
    }

    /// Compiles and links the module, instantiates it and runs `proxy_on_vm_start` and
    /// `proxy_on_configure`, as a proxy does when it loads the plugin.
    pub fn start(self) -> Result<Plugin, HarnessError> {
        let runtime = Runtime::new()?;
        let module = match &self.source {
            Source::File(path) => runtime.load_module(path),
            Source::Bytes(bytes) => runtime.compile(bytes, "the module"),
        }?;
        let shared = SharedState::new();
        let vm_id = self.info.vm_id.clone();
        let mut info = self.info;
        info.clusters = Arc::new(self.clusters);
        let factory = PluginFactory::from_module(&runtime, shared.clone(), &module, info)?;
        let embedder = Arc::new(TestEmbedder::new(unix_nanos(self.time), self.properties));
        let vm = factory
            .with_embedder(embedder.clone())
            .instantiate(Arc::new(|_, _| {}))
            .map_err(|reason| HarnessError::Start {
                reason,
                logs: embedder.logs().clone(),
            })?;
        let plugin = Plugin {
            inner: Rc::new(RefCell::new(Inner {
                vm: Some(vm),
                failure: None,
                calls: Vec::new(),
                grpc: Vec::new(),
                tick_period: None,
                _runtime: runtime,
            })),
            shared,
            vm_id,
            embedder,
        };
        // `on_vm_start` and `on_configure` may have set a tick period or made calls.
        plugin.with_vm(|_| Ok(()))?;
        Ok(plugin)
    }
}

struct Inner {
    /// `None` once it failed.
    vm: Option<PluginVm>,
    failure: Option<VmFailure>,
    /// Calls the guest dispatched that the test has not taken yet.
    calls: Vec<HttpCall>,
    /// What the guest asked of gRPC calls and streams that the test has not taken yet.
    grpc: Vec<GrpcRequest>,
    tick_period: Option<Duration>,
    /// Keeps the engine's epoch thread (the time cap) alive as long as the VM.
    _runtime: Arc<Runtime>,
}

/// A proxy-wasm plugin running in one VM, driven by a test. Cheap to clone (the clones share
/// the VM); not `Send`, as a VM belongs to one worker in a proxy.
#[derive(Clone)]
pub struct Plugin {
    inner: Rc<RefCell<Inner>>,
    shared: Arc<SharedState>,
    vm_id: String,
    embedder: Arc<TestEmbedder>,
}

impl Plugin {
    /// A plugin from the `.wasm` file at `path`.
    pub fn load(path: impl AsRef<Path>) -> PluginBuilder {
        PluginBuilder::new(Source::File(path.as_ref().to_path_buf()))
    }

    /// A plugin from a module's bytes.
    pub fn from_bytes(wasm: impl Into<Vec<u8>>) -> PluginBuilder {
        PluginBuilder::new(Source::Bytes(wasm.into()))
    }

    /// Runs `f` on the VM, then collects the effects the guest asked for (tick period, HTTP
    /// calls). A failure fails the plugin for good.
    pub(crate) fn with_vm<R>(
        &self,
        f: impl FnOnce(&mut PluginVm) -> Result<R, VmFailure>,
    ) -> Result<R, HarnessError> {
        let mut guard = self.inner.borrow_mut();
        let inner = &mut *guard;
        if let Some(failure) = &inner.failure {
            return Err(HarnessError::VmDead(failure.clone()));
        }
        let vm = inner
            .vm
            .as_mut()
            .expect("a plugin without failure has its VM");
        match f(vm) {
            Ok(result) => {
                let effects = vm.take_effects();
                if let Some(period) = effects.tick_period {
                    inner.tick_period = (!period.is_zero()).then_some(period);
                }
                inner
                    .calls
                    .extend(effects.http_calls.into_iter().map(HttpCall::from));
                inner
                    .grpc
                    .extend(effects.grpc.into_iter().map(GrpcRequest::from));
                Ok(result)
            }
            Err(failure) => {
                inner.vm = None;
                inner.failure = Some(failure.clone());
                Err(HarnessError::VmFailed(failure))
            }
        }
    }

    /// `proxy_on_tick`, as the proxy calls it every tick period. The harness never ticks by
    /// itself: the test decides when time passes.
    pub fn tick(&self) -> Result<(), HarnessError> {
        self.with_vm(PluginVm::deliver_tick)
    }

    /// The tick period the guest set (`None`: no timer).
    pub fn tick_period(&self) -> Option<Duration> {
        self.inner.borrow().tick_period
    }

    /// Moves the guest's clock forward (`proxy_get_current_time_nanoseconds`).
    pub fn advance(&self, by: Duration) {
        let nanos = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        self.embedder.advance(nanos);
    }

    /// The guest's current time.
    pub fn now(&self) -> SystemTime {
        use wasmesh_host::embedder::Embedder;
        UNIX_EPOCH + Duration::from_nanos(self.embedder.now_nanos())
    }

    /// The first failure of the VM, if it failed.
    pub fn failure(&self) -> Option<VmFailure> {
        self.inner.borrow().failure.clone()
    }

    /// Every line the guest logged so far.
    pub fn logs(&self) -> Vec<LogLine> {
        self.embedder.logs().clone()
    }

    /// Takes the lines logged so far (the next call sees only newer ones).
    pub fn take_logs(&self) -> Vec<LogLine> {
        std::mem::take(&mut *self.embedder.logs())
    }

    /// A counter's value, if the guest defined it.
    pub fn counter(&self, name: &str) -> Option<u64> {
        self.metric(name, MetricKind::Counter)?.get().ok()
    }

    /// A gauge's value, if the guest defined it.
    pub fn gauge(&self, name: &str) -> Option<i64> {
        let value = self.metric(name, MetricKind::Gauge)?.get().ok()?;
        Some(value as i64)
    }

    /// A histogram's sample count and sum, if the guest defined it.
    pub fn histogram(&self, name: &str) -> Option<(u64, u64)> {
        Some(self.metric(name, MetricKind::Histogram)?.samples())
    }

    fn metric(
        &self,
        name: &str,
        kind: MetricKind,
    ) -> Option<Arc<wasmesh_host::state::metrics::Metric>> {
        self.shared.metrics.find(name, kind)
    }

    /// A shared-data value of the plugin's VM id.
    pub fn shared_data(&self, key: &str) -> Option<Vec<u8>> {
        let (value, _cas) = self.shared.shared_data.get(&self.vm_id, key.as_bytes())?;
        Some(value.to_vec())
    }

    /// Sets a shared-data value of the plugin's VM id, as another plugin (or another worker's
    /// VM) would.
    pub fn set_shared_data(&self, key: &str, value: &[u8]) {
        self.shared
            .shared_data
            .set(&self.vm_id, key.as_bytes(), value, 0);
    }

    /// Takes the calls dispatched so far.
    pub(crate) fn take_calls(&self) -> Vec<HttpCall> {
        std::mem::take(&mut self.inner.borrow_mut().calls)
    }

    /// Takes the gRPC requests made so far.
    pub(crate) fn take_grpc(&self) -> Vec<GrpcRequest> {
        std::mem::take(&mut self.inner.borrow_mut().grpc)
    }
}

fn unix_nanos(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}
