//! The root context: reads both configurations, defines the metrics, registers the queue,
//! starts the tick timer, and consumes the queue and the ticks into shared data.

use std::rc::Rc;
use std::time::Duration;

use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{BufferType, ContextType, MetricType};

use crate::cases::declare::declare;
use crate::counter;
use crate::names;
use crate::report::text;
use crate::singleton::Singleton;
use crate::status;
use crate::stream::AbiStream;

/// Tick period requested in `on_configure`; the `timer` case expects ticks soon after start.
pub const TICK_PERIOD: Duration = Duration::from_millis(50);

/// Most items `on_queue_ready` dequeues in one call, so a flood cannot pin the worker.
const MAX_DEQUEUE: usize = 1000;

/// Metric ids defined by this root (one set per root context).
#[derive(Debug, Clone, Copy)]
pub struct MetricIds {
    /// [`names::COUNTER`].
    pub counter: u32,
    /// [`names::GAUGE`].
    pub gauge: u32,
    /// [`names::HISTOGRAM`].
    pub histogram: u32,
}

/// What streams learn from their root: built in `on_configure`, shared by reference count.
#[derive(Debug, Default)]
pub struct RootInfo {
    /// `VM_CONFIGURATION` as read in `on_vm_start`.
    pub vm_configuration: Vec<u8>,
    /// The `vm_configuration_size` argument of `on_vm_start`.
    pub vm_configuration_size: usize,
    /// `PLUGIN_CONFIGURATION` as read in `on_configure`.
    pub plugin_configuration: Vec<u8>,
    /// The `plugin_configuration_size` argument of `on_configure`.
    pub plugin_configuration_size: usize,
    /// Ids of the three metrics, if defining them worked.
    pub metrics: Option<MetricIds>,
    /// The statuses of the root's `declare_property` calls (the `declare-property` case).
    pub declared: serde_json::Value,
    /// The root context's id (the `vm-instance` case).
    pub root_context_id: u32,
}

/// One per plugin per worker.
pub struct AbiRoot {
    context_id: u32,
    vm_configuration: Vec<u8>,
    vm_configuration_size: usize,
    metrics: Option<MetricIds>,
    declared: serde_json::Value,
    info: Rc<RootInfo>,
    /// Set when this root is the singleton's: then it does only what `Singleton` does.
    singleton: Option<Singleton>,
    /// The plugin configuration says `probe-phases`: the next tick probes the hostcalls.
    probe_tick: bool,
}

impl AbiRoot {
    /// A root context before `on_vm_start`.
    pub fn new(context_id: u32) -> Self {
        crate::cases::instance::ROOTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Self {
            context_id,
            vm_configuration: Vec::new(),
            vm_configuration_size: 0,
            metrics: None,
            declared: serde_json::Value::Null,
            info: Rc::new(RootInfo::default()),
            singleton: None,
            probe_tick: false,
        }
    }
}

impl Context for AbiRoot {
    fn on_http_call_response(&mut self, _: u32, _: usize, _: usize, _: usize) {
        if let Some(singleton) = &self.singleton {
            singleton.on_http_call_response();
        }
    }

    fn on_done(&mut self) -> bool {
        log::info!("abi-test: root on_done context={}", self.context_id);
        true
    }
}

impl RootContext for AbiRoot {
    fn on_vm_start(&mut self, vm_configuration_size: usize) -> bool {
        crate::cases::instance::VM_STARTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.vm_configuration_size = vm_configuration_size;
        self.vm_configuration = read_buffer(BufferType::VmConfiguration, vm_configuration_size);
        log::info!(
            "abi-test: on_vm_start context={} vm_configuration={:?}",
            self.context_id,
            text(&self.vm_configuration)
        );
        true
    }

    fn on_configure(&mut self, plugin_configuration_size: usize) -> bool {
        let plugin_configuration =
            read_buffer(BufferType::PluginConfiguration, plugin_configuration_size);
        if property("plugin_root_id").as_deref() == Some(names::SINGLETON_ROOT_ID) {
            self.singleton = Some(Singleton::start(&plugin_configuration));
            return true;
        }
        if text(&plugin_configuration).contains("probe-phases") {
            crate::cases::phases::log_phase("configure", self.context_id);
            self.probe_tick = true;
        }
        if self.metrics.is_none() {
            self.metrics = define_metrics();
        }
        match hostcalls::register_shared_queue(names::QUEUE) {
            Ok(id) => log::info!("abi-test: registered queue {} as {id}", names::QUEUE),
            Err(s) => log::error!("abi-test: register_shared_queue: {}", status::of(s)),
        }
        if let Err(s) = hostcalls::set_tick_period(TICK_PERIOD) {
            log::error!("abi-test: set_tick_period: {}", status::of(s));
        }
        log::info!(
            "abi-test: on_configure context={} plugin_name={:?} root_id={:?} vm_id={:?} configuration={:?}",
            self.context_id,
            property("plugin_name"),
            property("plugin_root_id"),
            property("plugin_vm_id"),
            text(&plugin_configuration)
        );
        if self.declared.is_null() {
            self.declared = serde_json::json!({
                "readonly": declare("abi_readonly", true),
                "readonly_again": declare("abi_readonly", true),
                "writable": declare("abi_writable", false),
            });
        }
        self.info = Rc::new(RootInfo {
            vm_configuration: self.vm_configuration.clone(),
            vm_configuration_size: self.vm_configuration_size,
            plugin_configuration,
            plugin_configuration_size,
            metrics: self.metrics,
            declared: self.declared.clone(),
            root_context_id: self.context_id,
        });
        true
    }

    fn on_tick(&mut self) {
        if let Some(singleton) = &self.singleton {
            return singleton.on_tick();
        }
        if std::mem::take(&mut self.probe_tick) {
            crate::cases::phases::log_phase("tick", self.context_id);
        }
        if let Err(s) = counter::add(names::TICKS_KEY, 1) {
            log::warn!("abi-test: counting a tick: {}", status::of(s));
        }
    }

    fn on_queue_ready(&mut self, queue_id: u32) {
        if let Some(singleton) = &self.singleton {
            return singleton.on_queue_ready(queue_id);
        }
        let mut last = None;
        let mut items = 0u64;
        for _ in 0..MAX_DEQUEUE {
            match hostcalls::dequeue_shared_queue(queue_id) {
                Ok(Some(item)) => {
                    last = Some(item);
                    items += 1;
                }
                Ok(None) => break, // Empty
                Err(s) => {
                    log::warn!("abi-test: dequeue {queue_id}: {}", status::of(s));
                    break;
                }
            }
        }
        log::info!("abi-test: on_queue_ready queue={queue_id} items={items}");
        if let Some(last) = last {
            if let Err(s) = hostcalls::set_shared_data(names::QUEUE_LAST_KEY, Some(&last), None) {
                log::warn!("abi-test: storing the last queue item: {}", status::of(s));
            }
            if let Err(s) = counter::add(names::QUEUE_COUNT_KEY, items) {
                log::warn!("abi-test: counting queue items: {}", status::of(s));
            }
        }
    }

    fn create_http_context(&self, context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(AbiStream::new(context_id, self.info.clone())))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

/// A configuration buffer, empty when absent or unreadable (logged).
fn read_buffer(buffer: BufferType, size: usize) -> Vec<u8> {
    match hostcalls::get_buffer(buffer, 0, size) {
        Ok(bytes) => bytes.unwrap_or_default(),
        Err(s) => {
            log::error!("abi-test: reading {buffer:?}: {}", status::of(s));
            Vec::new()
        }
    }
}

/// A string property, for start-up logs.
fn property(name: &str) -> Option<String> {
    hostcalls::get_property(vec![name])
        .ok()
        .flatten()
        .map(|v| text(&v))
}

fn define_metrics() -> Option<MetricIds> {
    let define = |kind: MetricType, name: &str| match hostcalls::define_metric(kind, name) {
        Ok(id) => Some(id),
        Err(s) => {
            log::error!("abi-test: define_metric {name}: {}", status::of(s));
            None
        }
    };
    Some(MetricIds {
        counter: define(MetricType::Counter, names::COUNTER)?,
        gauge: define(MetricType::Gauge, names::GAUGE)?,
        histogram: define(MetricType::Histogram, names::HISTOGRAM)?,
    })
}
