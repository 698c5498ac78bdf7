//! What a VM's store carries: the plugin it runs, its contexts and the
//! per-stream data the hostcalls read and write, plus the effects a callback
//! asked for (timers, HTTP calls, gRPC calls and streams) that the driver applies once it
//! returns.
//! Nothing here runs wasm; the hostcalls in `crate::abi` only touch this.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use rustc_hash::{FxHashMap, FxHashSet};
use tokio::sync::Notify;
use wasmtime::TypedFunc;

pub mod context_ids;
pub mod expressions;
pub mod grpc;
pub mod memory_limits;
pub mod time_cap;

use context_ids::ContextIds;

use crate::embedder::SharedEmbedder;
use crate::headers::HeaderMap;
use crate::plugin_info::PluginInfo;
use crate::state::SharedState;
use crate::stream_info::StreamInfo;

/// A local reply a filter asked for with `proxy_send_local_response`.
#[derive(Debug, Clone)]
pub struct LocalReply {
    /// HTTP status.
    pub status: u16,
    /// Extra response headers.
    pub headers: HeaderMap,
    /// Response body.
    pub body: Vec<u8>,
    /// `status_code_details`, logged.
    pub details: String,
    /// gRPC status for gRPC requests (`None`: derived from the HTTP status).
    pub grpc_status: Option<u32>,
}

impl LocalReply {
    /// A plain-text reply with no extra headers: the proxy's own answers (404 no route, 504
    /// timeout, 413 too large...) and the chain's (a VM that failed closed).
    pub fn text(status: u16, body: &str, details: &str) -> LocalReply {
        LocalReply {
            status,
            headers: HeaderMap::new(),
            body: body.as_bytes().to_vec(),
            details: details.to_string(),
            grpc_status: None,
        }
    }
}

/// Requests a filter made of its stream, read by the driver after a callback
/// or when it wakes from a pause.
#[derive(Debug, Default)]
pub struct StreamSignals {
    /// `proxy_continue_stream(HTTP_REQUEST)`.
    pub continue_request: bool,
    /// `proxy_continue_stream(HTTP_RESPONSE)`.
    pub continue_response: bool,
    /// `proxy_close_stream`: reset the stream.
    pub close: bool,
    /// `proxy_send_local_response`.
    pub local_reply: Option<LocalReply>,
    /// `proxy_continue_stream(DOWNSTREAM)` on a connection: go on reading (Envoy's
    /// `continueReading`).
    pub continue_downstream: bool,
    /// `proxy_close_stream(DOWNSTREAM)` on a connection: close the client's side.
    pub close_downstream: bool,
    /// `proxy_close_stream(UPSTREAM)` on a connection: close the upstream side.
    pub close_upstream: bool,
}

/// One stream context inside a VM: an HTTP stream's, or a TCP connection's (a network filter's,
/// which has only `connection` and the signals; the header hostcalls find no map in it).
pub struct HttpStream {
    /// Available from request headers on (Envoy keeps them readable until the log phase).
    pub request_headers: Option<HeaderMap>,
    /// Request body seen by the current `on_request_body` (buffered chunks included).
    pub request_body: Option<Vec<u8>>,
    /// Request trailers while `on_request_trailers` runs (or may be added at end of body).
    pub request_trailers: Option<HeaderMap>,
    /// Response headers from `on_response_headers` on.
    pub response_headers: Option<HeaderMap>,
    /// Response body seen by the current `on_response_body`.
    pub response_body: Option<Vec<u8>>,
    /// Response trailers while `on_response_trailers` runs.
    pub response_trailers: Option<HeaderMap>,
    /// Facts about the stream for properties.
    pub info: Rc<StreamInfo>,
    /// What the filter asked of the stream.
    pub signals: StreamSignals,
    /// Woken whenever `signals` change, so a paused stream resumes.
    pub waker: Rc<Notify>,
    /// Properties the filter set with `proxy_set_property`.
    pub properties: HashMap<Vec<u8>, Vec<u8>>,
    /// Properties declared (`declare_property`) while this stream's callback ran: Envoy keeps
    /// such a declaration on the stream's context, where `proxy_set_property` never reads it,
    /// so it only makes a second declaration of the same name `BadArgument`.
    pub declared: HashSet<Vec<u8>>,
    /// A network filter's connection data; `None` for an HTTP stream.
    pub connection: Option<ConnectionData>,
    /// The root context it was created under: its plugin's, in a VM several plugins share.
    pub root: u32,
    /// The stream is over (`on_log`, `on_done`, `on_delete` run now): what Envoy knows only
    /// then, the request's duration, reads.
    pub ended: bool,
    /// `proxy_on_log` is running: every map reads (a missing one as empty) and none may be
    /// changed, as in Envoy's access-log phase.
    pub logging: bool,
}

/// What a network filter's context reads and writes: the bytes its current callback sees.
#[derive(Debug, Default)]
pub struct ConnectionData {
    /// Bytes from the client not yet passed on (`NetworkDownstreamData`, buffer 2), during
    /// `proxy_on_downstream_data` and while this filter holds them back.
    pub downstream: Option<Vec<u8>>,
    /// Bytes from the upstream not yet passed on (`NetworkUpstreamData`, buffer 3), during
    /// `proxy_on_upstream_data`.
    pub upstream: Option<Vec<u8>>,
}

impl HttpStream {
    /// A fresh stream context.
    pub fn new(info: Rc<StreamInfo>, waker: Rc<Notify>) -> HttpStream {
        HttpStream {
            request_headers: None,
            request_body: None,
            request_trailers: None,
            response_headers: None,
            response_body: None,
            response_trailers: None,
            info,
            signals: StreamSignals::default(),
            waker,
            properties: HashMap::new(),
            declared: HashSet::new(),
            connection: None,
            root: 0,
            ended: false,
            logging: false,
        }
    }

    /// A fresh network filter's context for a TCP connection.
    pub fn connection(info: Rc<StreamInfo>, waker: Rc<Notify>) -> HttpStream {
        HttpStream {
            connection: Some(ConnectionData::default()),
            ..HttpStream::new(info, waker)
        }
    }

    /// Wakes every task waiting on this stream's signals, and the next one to wait: a body
    /// pump paused on a filter and the handler waiting on the upstream may both be waiting,
    /// and a filter acting from `on_tick` (through `proxy_set_effective_context`) must reach
    /// whichever of them can act on it.
    pub fn wake(&self) {
        self.waker.notify_waiters();
        self.waker.notify_one();
    }
}

/// An outgoing `proxy_http_call` waiting for the driver to send it.
#[derive(Debug)]
pub struct PendingHttpCall {
    /// Token handed back to the guest.
    pub token: u32,
    /// Context that gets `on_http_call_response`: always the root, which makes every call in
    /// Envoy whichever context asked (SDKs find the asking stream by the token).
    pub context_id: u32,
    /// Target cluster.
    pub cluster: String,
    /// Headers including `:method`, `:path`, `:authority`.
    pub headers: HeaderMap,
    /// Request body.
    pub body: Vec<u8>,
    /// Request trailers.
    pub trailers: HeaderMap,
    /// Response deadline.
    pub timeout: Duration,
}

/// The answer to an HTTP call, readable during `on_http_call_response`.
#[derive(Debug, Default)]
pub struct CallResponse {
    /// Headers with `:status`. The wasmesh proxy always sets one (504 on timeout, 503 when no
    /// response came); empty only when an embedder reports a failure as Envoy's `onFailure` does.
    pub headers: HeaderMap,
    /// Body.
    pub body: Vec<u8>,
    /// Trailers.
    pub trailers: HeaderMap,
}

/// Effects a callback asked for that need the async driver.
#[derive(Debug, Default)]
pub struct Effects {
    /// New tick period (`Some(0)` = stop) when changed.
    pub tick_period: Option<Duration>,
    /// Calls to send.
    pub http_calls: Vec<PendingHttpCall>,
    /// What to do with gRPC calls and streams, in the order the guest asked.
    pub grpc: Vec<grpc::GrpcCommand>,
}

impl Effects {
    /// True when nothing is waiting to be applied.
    pub fn is_empty(&self) -> bool {
        self.tick_period.is_none() && self.http_calls.is_empty() && self.grpc.is_empty()
    }

    /// Adds `later`, asked for after these: its tick period replaces theirs, its calls and
    /// gRPC commands come after theirs.
    pub fn merge(&mut self, later: Effects) {
        if later.tick_period.is_some() {
            self.tick_period = later.tick_period;
        }
        self.http_calls.extend(later.http_calls);
        self.grpc.extend(later.grpc);
    }
}

/// Where a VM's queue wake-ups go, on its worker: called with the root context that registered
/// the queue (which gets `proxy_on_queue_ready`, as in Envoy) and the queue's id.
pub type QueueDispatch = Arc<dyn Fn(u32, u32) + Send + Sync>;

/// The per-VM store data.
pub struct HostState {
    /// The plugin the VM runs a callback for now: the one whose root context
    /// [`HostState::enter`] entered. A VM runs one plugin, or several that share it (the same
    /// VM id, VM configuration and module, as in Envoy), each with a root context of its own.
    pub plugin: Arc<PluginInfo>,
    /// Host-wide stores.
    pub shared: Arc<SharedState>,
    /// Memory cap enforcement, and whether the memory grew since its size was published.
    pub limits: memory_limits::MemoryLimits,
    /// The guest's allocator (`proxy_on_memory_allocate` or `malloc`), for returning data.
    pub alloc: Option<TypedFunc<u32, u32>>,
    /// The guest's exported memory, looked up once (hostcalls run per request).
    pub memory: Option<wasmtime::Memory>,
    /// Where a hostcall puts the bytes it returns before they are copied into the guest
    /// ([`crate::abi::memory::return_filled`]), kept between hostcalls.
    pub scratch: Vec<u8>,
    /// Context id the current callback runs in (changed by `proxy_set_effective_context`).
    pub active_context: u32,
    /// The running callback's time cap.
    pub time_cap: time_cap::TimeCap,
    /// The root context of [`HostState::plugin`] (0 before the first root is started).
    pub root_context: u32,
    /// Every root context in the VM, with its plugin.
    pub roots: FxHashMap<u32, Arc<PluginInfo>>,
    /// Stream contexts by id.
    pub streams: FxHashMap<u32, HttpStream>,
    /// `proxy_on_vm_start` or `proxy_on_configure` is running: the plugin configuration is
    /// readable (Envoy hands it to the guest only then).
    pub starting: bool,
    /// Properties the root context declared (`declare_property`), by name: whether each is
    /// read-only (a stream may set it once).
    pub declared_properties: HashMap<Vec<u8>, bool>,
    /// During `on_http_call_response`: the answer.
    pub call_response: Option<CallResponse>,
    /// Effects to apply after the callback.
    pub effects: Effects,
    /// The gRPC calls and streams this VM has open.
    pub grpc: grpc::GrpcCallouts,
    /// During a `proxy_on_grpc_*` callback: what it may read.
    pub grpc_received: Option<grpc::GrpcReceived>,
    /// Context ids and call tokens handed out.
    pub ids: ContextIds,
    /// Tokens of HTTP calls whose response has not been delivered yet.
    pub calls_in_flight: FxHashSet<u32>,
    /// Where the queues this VM registers wake it up.
    pub queue_waker: QueueDispatch,
    /// Contexts whose `proxy_on_done` answered false: they may call `proxy_done`.
    pub pending_done: FxHashSet<u32>,
    /// The metrics this VM has used, by id, and its own cells for their counts: a request's
    /// updates find them here instead of under the host-wide registry's lock (ids are never
    /// reused or removed).
    pub metric_cells: crate::state::metrics::MetricCells,
    /// The program this VM runs in: guest log lines, the clock, its own properties.
    pub embedder: SharedEmbedder,
    /// The CEL expressions its root contexts created (`expr_create`).
    pub expressions: expressions::Expressions,
}

impl HostState {
    /// The stream context the current callback runs in, if it is one.
    pub fn active_stream(&mut self) -> Option<&mut HttpStream> {
        let id = self.active_context;
        self.streams.get_mut(&id)
    }

    /// A fresh id for a context or an HTTP call: never one a live context, a context waiting
    /// for `proxy_done` or an unanswered call still has.
    pub fn fresh_id(&mut self) -> u32 {
        let (roots, streams, pending, calls) = (
            &self.roots,
            &self.streams,
            &self.pending_done,
            &self.calls_in_flight,
        );
        self.ids.fresh(|id| {
            roots.contains_key(&id)
                || streams.contains_key(&id)
                || pending.contains(&id)
                || calls.contains(&id)
        })
    }

    /// Runs what follows for root context `root`'s plugin: the hostcalls read its names,
    /// configuration and limits, and the contexts and calls it makes hang off `root`. False
    /// (and nothing changed) when the VM has no such root.
    pub fn enter(&mut self, root: u32) -> bool {
        if root == self.root_context {
            return root != 0;
        }
        let Some(plugin) = self.roots.get(&root) else {
            return false;
        };
        self.plugin = plugin.clone();
        self.root_context = root;
        true
    }
}
