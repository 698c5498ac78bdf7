//! One instance of a plugin's module on one worker: its store, the typed
//! exports it offers, and calls into it under the plugin's time cap. Every
//! call returns either the guest's answer or a [`VmFailure`]; a failed VM is
//! never called again (the slot rebuilds it).

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use wasmtime::{Instance, Store, Trap, TypedFunc, WasmParams, WasmResults};

use crate::error::ExportError;
use crate::state::costs::{CallbackCost, PluginCosts};
use crate::store::HostState;

mod callback;
mod callback_clock;
mod network;
pub use callback::Callback;
use callback_clock::CallbackClock;
pub use network::{Flow, PeerType};

/// What a stream callback answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Go on to the next filter.
    Continue,
    /// Stop here (headers: until resumed; body: buffer until resumed or Continue).
    Pause,
}

/// The highest status each callback family defines (proxy-wasm 0.2.1): headers
/// `StopAllIterationAndWatermark` (4), bodies `StopIterationNoBuffer` (3), trailers
/// `StopIteration` (1). Envoy quietly treats anything above as "stop"; a filter that answers
/// 42 is broken, so wasmesh fails its VM instead and the request gets `fail_open`'s outcome.
const MAX_HEADERS_STATUS: u32 = 4;
const MAX_BODY_STATUS: u32 = 3;
const MAX_TRAILERS_STATUS: u32 = 1;

impl Action {
    /// 0 continues; any other defined status stops (the host buffers bodies while stopped).
    fn from_abi(callback: &str, raw: Option<u32>, max: u32) -> Result<Action, VmFailure> {
        match raw {
            None | Some(0) => Ok(Action::Continue),
            Some(status) if status <= max => Ok(Action::Pause),
            Some(status) => Err(VmFailure {
                reason: format!("{callback} returned {status}, not a filter status (0..={max})"),
                kind: "invalid_return",
            }),
        }
    }
}

/// Why a VM can no longer be used.
#[derive(Debug, Clone)]
pub struct VmFailure {
    /// Human-readable cause, for logs and `/config`.
    pub reason: String,
    /// Short label for the failure counter.
    pub kind: &'static str,
}

impl fmt::Display for VmFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.reason, self.kind)
    }
}

impl std::error::Error for VmFailure {}

impl VmFailure {
    /// Classifies an error from a wasm call.
    pub fn from_error(callback: &str, error: wasmtime::Error) -> VmFailure {
        let text = format!("{error:#}");
        let kind = match error.downcast_ref::<Trap>() {
            Some(Trap::Interrupt) => "timeout",
            Some(Trap::StackOverflow) => "stack_overflow",
            Some(Trap::MemoryOutOfBounds) => "memory_out_of_bounds",
            // The store's limiter refuses growth past the cap and traps (trap_on_grow_failure).
            _ if text.contains("forcing a memory growth failure") => "memory_limit",
            _ => "trap",
        };
        VmFailure {
            reason: format!("{callback}: {text}"),
            kind,
        }
    }
}

type F<P, R> = Option<TypedFunc<P, R>>;

/// The callbacks a module may export (all optional, as the spec says).
#[derive(Default)]
pub struct Exports {
    on_context_create: F<(u32, u32), ()>,
    on_vm_start: F<(u32, u32), u32>,
    on_configure: F<(u32, u32), u32>,
    on_request_headers: F<(u32, u32, u32), u32>,
    on_request_body: F<(u32, u32, u32), u32>,
    on_request_trailers: F<(u32, u32), u32>,
    on_response_headers: F<(u32, u32, u32), u32>,
    on_response_body: F<(u32, u32, u32), u32>,
    on_response_trailers: F<(u32, u32), u32>,
    on_done: F<u32, u32>,
    on_log: F<u32, ()>,
    on_delete: F<u32, ()>,
    on_tick: F<u32, ()>,
    on_queue_ready: F<(u32, u32), ()>,
    on_http_call_response: F<(u32, u32, u32, u32, u32), ()>,
    on_grpc_receive_initial_metadata: F<(u32, u32, u32), ()>,
    on_grpc_receive: F<(u32, u32, u32), ()>,
    on_grpc_receive_trailing_metadata: F<(u32, u32, u32), ()>,
    on_grpc_close: F<(u32, u32, u32), ()>,
    on_new_connection: F<u32, u32>,
    on_downstream_data: F<(u32, u32, u32), u32>,
    on_upstream_data: F<(u32, u32, u32), u32>,
    on_downstream_connection_close: F<(u32, u32), ()>,
    on_upstream_connection_close: F<(u32, u32), ()>,
}

/// A live instance. Its store, and the per-context state in it, are reached only through the
/// narrow methods that keep their invariants (`contexts.rs`): a context is created, fed and
/// ended there, an http call's answer is readable only while its callback runs. The hostcall
/// fuzzer, which builds states no driver would, reaches the store with the `fuzzing` feature.
pub struct PluginVm {
    /// The store; its data is the [`HostState`].
    pub(crate) store: Store<HostState>,
    exports: Exports,
    /// The plugin's per-callback time cap (see [`crate::store::time_cap`]).
    cap: std::time::Duration,
    /// Where each plugin's callback times and the memory size go, by root context: one per
    /// plugin the VM runs, so a few at most, found by a scan. Plugins sharing a VM take turns
    /// on every request, so nothing is moved when the running one changes.
    accounts: Vec<(u32, CostAccount)>,
    /// The index in `accounts` of the root recorded for last.
    current: usize,
    /// Times each callback.
    clock: CallbackClock,
}

/// One plugin's callback histograms and memory gauge: this VM's cells of them, by callback, so
/// recording a call takes no lock and writes nothing another worker writes.
struct CostAccount {
    costs: Arc<PluginCosts>,
    callbacks: [Option<CallbackCost>; Callback::COUNT],
    memory_size: Arc<AtomicU64>,
}

impl CostAccount {
    fn of(state: &HostState) -> CostAccount {
        let name = state.plugin.label();
        CostAccount {
            costs: state.shared.costs.plugin(&name),
            callbacks: std::array::from_fn(|_| None),
            memory_size: state.shared.costs.memory_cell(&name),
        }
    }
}

impl PluginVm {
    /// Wraps an instance, looking up its exports (a wrong signature is an error).
    pub(crate) fn new(
        mut store: Store<HostState>,
        instance: Instance,
    ) -> Result<PluginVm, ExportError> {
        let s = &mut store;
        macro_rules! export {
            ($callback:ident) => {{
                let name = Callback::$callback.name();
                match instance.get_func(&mut *s, name) {
                    Some(f) => {
                        Some(
                            f.typed(&mut *s)
                                .map_err(|error| ExportError::WrongSignature {
                                    export: name,
                                    error,
                                })?,
                        )
                    }
                    None => None,
                }
            }};
        }
        let exports = Exports {
            on_context_create: export!(ContextCreate),
            on_vm_start: export!(VmStart),
            on_configure: export!(Configure),
            on_request_headers: export!(RequestHeaders),
            on_request_body: export!(RequestBody),
            on_request_trailers: export!(RequestTrailers),
            on_response_headers: export!(ResponseHeaders),
            on_response_body: export!(ResponseBody),
            on_response_trailers: export!(ResponseTrailers),
            on_done: export!(Done),
            on_log: export!(Log),
            on_delete: export!(Delete),
            on_tick: export!(Tick),
            on_queue_ready: export!(QueueReady),
            on_http_call_response: export!(HttpCallResponse),
            on_grpc_receive_initial_metadata: export!(GrpcInitialMetadata),
            on_grpc_receive: export!(GrpcMessage),
            on_grpc_receive_trailing_metadata: export!(GrpcTrailingMetadata),
            on_grpc_close: export!(GrpcClose),
            on_new_connection: export!(NewConnection),
            on_downstream_data: export!(DownstreamData),
            on_upstream_data: export!(UpstreamData),
            on_downstream_connection_close: export!(DownstreamClose),
            on_upstream_connection_close: export!(UpstreamClose),
        };
        let alloc = match instance.get_func(&mut store, "proxy_on_memory_allocate") {
            Some(f) => Some(f),
            None => instance.get_func(&mut store, "malloc"),
        };
        let alloc = match alloc {
            Some(f) => f
                .typed::<u32, u32>(&store)
                .map_err(ExportError::Allocator)?,
            None => return Err(ExportError::NoAllocator),
        };
        store.data_mut().alloc = Some(alloc);
        let memory = instance.get_memory(&mut store, "memory");
        store.data_mut().memory = memory;
        let cap = store.data().plugin.callback_time;
        Ok(PluginVm {
            store,
            exports,
            cap,
            accounts: Vec::new(),
            current: 0,
            clock: CallbackClock::new(),
        })
    }

    /// The store data.
    #[cfg(not(feature = "fuzzing"))]
    pub(crate) fn state(&mut self) -> &mut HostState {
        self.store.data_mut()
    }

    /// The store data, for the hostcall fuzzer (feature `fuzzing`; not a stable API).
    #[cfg(feature = "fuzzing")]
    pub fn state(&mut self) -> &mut HostState {
        self.store.data_mut()
    }

    /// The store, for the hostcall fuzzer to write the guest's memory (feature `fuzzing`; not
    /// a stable API).
    #[cfg(feature = "fuzzing")]
    pub fn store_mut(&mut self) -> &mut Store<HostState> {
        &mut self.store
    }

    /// Calls the export `pick` selects, if the module has it. The export is borrowed, not
    /// cloned: a `TypedFunc` clone copies its registered type (reference counts in the engine's
    /// type registry), which a profile showed at ~2 % of a worker's cycles with three filters.
    fn call<P: WasmParams, R: WasmResults>(
        &mut self,
        callback: Callback,
        context: u32,
        pick: impl FnOnce(&Exports) -> &F<P, R>,
        params: P,
    ) -> Result<Option<R>, VmFailure> {
        let Some(func) = pick(&self.exports) else {
            return Ok(None);
        };
        let state = self.store.data_mut();
        state.active_context = context;
        let root = state.root_context;
        let deadline = state.time_cap.start(self.cap);
        self.store.set_epoch_deadline(deadline);
        let started = self.clock.mark();
        let result = func.call(&mut self.store, params);
        // `proxy_set_effective_context` may have moved to another plugin's context: the
        // driver's plugin is the running one again once the callback returns.
        let state = self.store.data_mut();
        if state.root_context != root {
            state.enter(root);
        }
        let took = self.clock.since(started);
        self.record_cost(callback, took);
        result
            .map(Some)
            .map_err(|e| VmFailure::from_error(callback.name(), e))
    }

    /// Counts a callback's time in the running plugin's histogram, and publishes the memory
    /// size if the callback grew the memory.
    fn record_cost(&mut self, callback: Callback, took: Duration) {
        let root = self.store.data().root_context;
        let index = match self.accounts.get(self.current) {
            Some((recorded, _)) if *recorded == root => self.current,
            _ => self.account_of(root),
        };
        self.current = index;
        let account = &mut self.accounts[index].1;
        account.callbacks[callback.index()]
            .get_or_insert_with(|| account.costs.callback(callback.name()))
            .record(took);
        if self.store.data_mut().limits.take_grew() {
            let bytes = self.memory_size();
            for (_, account) in &self.accounts {
                account.memory_size.store(bytes, Ordering::Relaxed);
            }
        }
    }

    /// The index of root context `root`'s account, opened (showing the memory size now) if it
    /// has none yet.
    fn account_of(&mut self, root: u32) -> usize {
        if let Some(index) = self.accounts.iter().position(|(r, _)| *r == root) {
            return index;
        }
        let account = CostAccount::of(self.store.data());
        account
            .memory_size
            .store(self.memory_size(), Ordering::Relaxed);
        self.accounts.push((root, account));
        self.accounts.len() - 1
    }

    /// The guest memory's size in bytes (0 for a module without one).
    fn memory_size(&self) -> u64 {
        self.store
            .data()
            .memory
            .map_or(0, |memory| memory.data_size(&self.store) as u64)
    }

    /// Drops ended root `root`'s account.
    pub(super) fn forget_account(&mut self, root: u32) {
        self.accounts.retain(|(r, _)| *r != root);
        self.current = 0;
    }

    /// Runs a start function (`_initialize` then `main`, or `_start`) as the spec orders.
    pub fn run_start(&mut self, instance: &Instance) -> Result<(), VmFailure> {
        let deadline = self.store.data_mut().time_cap.start(self.cap * 10);
        self.store.set_epoch_deadline(deadline);
        if let Some(init) = instance.get_func(&mut self.store, "_initialize") {
            let init = init
                .typed::<(), ()>(&self.store)
                .map_err(|e| VmFailure::from_error("_initialize", e))?;
            init.call(&mut self.store, ())
                .map_err(|e| VmFailure::from_error("_initialize", e))?;
            if let Some(main) = instance.get_func(&mut self.store, "main") {
                if let Ok(main) = main.typed::<(u32, u32), u32>(&self.store) {
                    main.call(&mut self.store, (0, 0))
                        .map_err(|e| VmFailure::from_error("main", e))?;
                }
            }
        } else if let Some(start) = instance.get_func(&mut self.store, "_start") {
            let start = start
                .typed::<(), ()>(&self.store)
                .map_err(|e| VmFailure::from_error("_start", e))?;
            start
                .call(&mut self.store, ())
                .map_err(|e| VmFailure::from_error("_start", e))?;
        }
        Ok(())
    }

    /// `proxy_on_context_create`.
    pub fn on_context_create(&mut self, id: u32, parent: u32) -> Result<(), VmFailure> {
        self.call(
            Callback::ContextCreate,
            id,
            |e| &e.on_context_create,
            (id, parent),
        )?;
        Ok(())
    }

    /// `proxy_on_vm_start`; a missing export counts as success.
    pub fn on_vm_start(&mut self, root: u32, size: u32) -> Result<bool, VmFailure> {
        self.store.data_mut().starting = true;
        let started = self.call(Callback::VmStart, root, |e| &e.on_vm_start, (root, size));
        self.store.data_mut().starting = false;
        Ok(started?.is_none_or(|r| r != 0))
    }

    /// `proxy_on_configure`; a missing export counts as success.
    pub fn on_configure(&mut self, root: u32, size: u32) -> Result<bool, VmFailure> {
        self.store.data_mut().starting = true;
        let configured = self.call(Callback::Configure, root, |e| &e.on_configure, (root, size));
        self.store.data_mut().starting = false;
        Ok(configured?.is_none_or(|r| r != 0))
    }

    /// `proxy_on_request_headers`.
    pub fn on_request_headers(&mut self, ctx: u32, n: u32, eos: bool) -> Result<Action, VmFailure> {
        let r = self.call(
            Callback::RequestHeaders,
            ctx,
            |e| &e.on_request_headers,
            (ctx, n, eos as u32),
        )?;
        Action::from_abi(Callback::RequestHeaders.name(), r, MAX_HEADERS_STATUS)
    }

    /// `proxy_on_request_body`.
    pub fn on_request_body(&mut self, ctx: u32, size: u32, eos: bool) -> Result<Action, VmFailure> {
        let r = self.call(
            Callback::RequestBody,
            ctx,
            |e| &e.on_request_body,
            (ctx, size, eos as u32),
        )?;
        Action::from_abi(Callback::RequestBody.name(), r, MAX_BODY_STATUS)
    }

    /// `proxy_on_request_trailers`.
    pub fn on_request_trailers(&mut self, ctx: u32, n: u32) -> Result<Action, VmFailure> {
        let r = self.call(
            Callback::RequestTrailers,
            ctx,
            |e| &e.on_request_trailers,
            (ctx, n),
        )?;
        Action::from_abi(Callback::RequestTrailers.name(), r, MAX_TRAILERS_STATUS)
    }

    /// `proxy_on_response_headers`.
    pub fn on_response_headers(
        &mut self,
        ctx: u32,
        n: u32,
        eos: bool,
    ) -> Result<Action, VmFailure> {
        let r = self.call(
            Callback::ResponseHeaders,
            ctx,
            |e| &e.on_response_headers,
            (ctx, n, eos as u32),
        )?;
        Action::from_abi(Callback::ResponseHeaders.name(), r, MAX_HEADERS_STATUS)
    }

    /// `proxy_on_response_body`.
    pub fn on_response_body(
        &mut self,
        ctx: u32,
        size: u32,
        eos: bool,
    ) -> Result<Action, VmFailure> {
        let r = self.call(
            Callback::ResponseBody,
            ctx,
            |e| &e.on_response_body,
            (ctx, size, eos as u32),
        )?;
        Action::from_abi(Callback::ResponseBody.name(), r, MAX_BODY_STATUS)
    }

    /// `proxy_on_response_trailers`.
    pub fn on_response_trailers(&mut self, ctx: u32, n: u32) -> Result<Action, VmFailure> {
        let r = self.call(
            Callback::ResponseTrailers,
            ctx,
            |e| &e.on_response_trailers,
            (ctx, n),
        )?;
        Action::from_abi(Callback::ResponseTrailers.name(), r, MAX_TRAILERS_STATUS)
    }

    /// `proxy_on_done`; true when the context may be deleted now.
    pub fn on_done(&mut self, ctx: u32) -> Result<bool, VmFailure> {
        Ok(self
            .call(Callback::Done, ctx, |e| &e.on_done, ctx)?
            .is_none_or(|r| r != 0))
    }

    /// `proxy_on_log`.
    pub fn on_log(&mut self, ctx: u32) -> Result<(), VmFailure> {
        self.call(Callback::Log, ctx, |e| &e.on_log, ctx)
            .map(|_| ())
    }

    /// `proxy_on_delete`.
    pub fn on_delete(&mut self, ctx: u32) -> Result<(), VmFailure> {
        self.call(Callback::Delete, ctx, |e| &e.on_delete, ctx)
            .map(|_| ())
    }

    /// Ends a context in Envoy's order: `on_log` (streams only, `log`), `on_done`, `on_delete`.
    /// A context whose `on_done` answers false may call `proxy_done` until it is deleted; the
    /// host does not hold it open beyond that.
    pub fn finish_context(&mut self, ctx: u32, log: bool) -> Result<(), VmFailure> {
        if log {
            self.on_log(ctx)?;
        }
        if !self.on_done(ctx)? {
            self.state().pending_done.insert(ctx);
        }
        let deleted = self.on_delete(ctx);
        self.state().pending_done.remove(&ctx);
        deleted
    }

    /// `proxy_on_tick`.
    pub fn on_tick(&mut self, root: u32) -> Result<(), VmFailure> {
        self.call(Callback::Tick, root, |e| &e.on_tick, root)
            .map(|_| ())
    }

    /// `proxy_on_queue_ready`.
    pub fn on_queue_ready(&mut self, root: u32, queue: u32) -> Result<(), VmFailure> {
        self.call(
            Callback::QueueReady,
            root,
            |e| &e.on_queue_ready,
            (root, queue),
        )
        .map(|_| ())
    }

    /// `proxy_on_http_call_response`.
    pub fn on_http_call_response(
        &mut self,
        ctx: u32,
        token: u32,
        headers: u32,
        body: u32,
        trailers: u32,
    ) -> Result<(), VmFailure> {
        self.call(
            Callback::HttpCallResponse,
            ctx,
            |e| &e.on_http_call_response,
            (ctx, token, headers, body, trailers),
        )
        .map(|_| ())
    }

    /// One of the `proxy_on_grpc_*` callbacks, each `(context, token, n)`: `n` is a map's
    /// entry count, a message's size or the status code.
    pub fn on_grpc(
        &mut self,
        callback: GrpcCallback,
        ctx: u32,
        token: u32,
        n: u32,
    ) -> Result<(), VmFailure> {
        let (callback, pick): (Callback, PickGrpc) = match callback {
            GrpcCallback::InitialMetadata => (Callback::GrpcInitialMetadata, |e| {
                &e.on_grpc_receive_initial_metadata
            }),
            GrpcCallback::Message => (Callback::GrpcMessage, |e| &e.on_grpc_receive),
            GrpcCallback::TrailingMetadata => (Callback::GrpcTrailingMetadata, |e| {
                &e.on_grpc_receive_trailing_metadata
            }),
            GrpcCallback::Close => (Callback::GrpcClose, |e| &e.on_grpc_close),
        };
        self.call(callback, ctx, pick, (ctx, token, n)).map(|_| ())
    }
}

/// Picks a gRPC callback's export.
type PickGrpc = fn(&Exports) -> &F<(u32, u32, u32), ()>;

/// The gRPC callbacks.
#[derive(Debug, Clone, Copy)]
pub enum GrpcCallback {
    /// `proxy_on_grpc_receive_initial_metadata`.
    InitialMetadata,
    /// `proxy_on_grpc_receive`.
    Message,
    /// `proxy_on_grpc_receive_trailing_metadata`.
    TrailingMetadata,
    /// `proxy_on_grpc_close`.
    Close,
}
