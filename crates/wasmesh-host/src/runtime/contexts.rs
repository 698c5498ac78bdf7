//! The lifecycle of a VM's contexts, as narrow operations on [`PluginVm`]: whoever drives the
//! VM (the filter chain, the worker's effect loop, a test harness) creates, feeds and ends
//! contexts only through these, so the invariants live in one place: ids are never reused
//! while anything may still name them, a stream's state exists exactly while its context
//! does, and an HTTP call's answer is readable only during its callback.

use std::rc::Rc;
use std::sync::Arc;

use tokio::sync::Notify;

use super::vm::{GrpcCallback, PluginVm, VmFailure};
use crate::error::StartError;
use crate::headers::HeaderMap;
use crate::plugin_info::PluginInfo;
use crate::store::grpc::{GrpcReceived, TokenKind};
use crate::store::{CallResponse, Effects, HttpStream};
use crate::stream_info::StreamInfo;

impl PluginVm {
    /// The running plugin's root context (ticks, queues and the plugin's own HTTP and gRPC
    /// calls run in it).
    pub fn root_context(&mut self) -> u32 {
        self.state().root_context
    }

    /// Starts a root context for `plugin`, as Envoy starts each plugin in its VM:
    /// `proxy_on_context_create` (no parent), `proxy_on_vm_start` (every root gets it, with the
    /// VM's configuration) and `proxy_on_configure`; the VM then runs for it. A root whose
    /// start refused is ended again; a failure is the VM's.
    pub fn start_root(&mut self, plugin: Arc<PluginInfo>) -> Result<u32, RootStartError> {
        let vm_config_len = plugin.vm_config.len() as u32;
        let config_len = plugin.configuration.len() as u32;
        let state = self.state();
        let root = state.fresh_id();
        state.roots.insert(root, plugin);
        state.enter(root);
        self.on_context_create(root, 0)?;
        if !self.on_vm_start(root, vm_config_len)? {
            self.end_root(root)?;
            return Err(RootStartError::VmStartRefused);
        }
        if !self.on_configure(root, config_len)? {
            self.end_root(root)?;
            return Err(RootStartError::ConfigureRefused);
        }
        Ok(root)
    }

    /// Ends root context `root` (`on_done`, `on_delete`): its plugin leaves the VM. The VM
    /// runs for the other plugins it holds.
    pub fn end_root(&mut self, root: u32) -> Result<(), VmFailure> {
        if !self.state().enter(root) {
            return Ok(());
        }
        let ended = self.finish_context(root, false);
        let state = self.state();
        state.roots.remove(&root);
        state.expressions.forget_root(root);
        self.forget_account(root);
        ended
    }

    /// Creates an HTTP stream context (`proxy_on_context_create` with the root as parent).
    /// `waker` is notified whenever the filter changes what it asks of the stream.
    pub fn create_stream(
        &mut self,
        info: Rc<StreamInfo>,
        waker: Rc<Notify>,
    ) -> Result<u32, VmFailure> {
        self.create_context(HttpStream::new(info, waker))
    }

    /// Creates a network filter's context for a TCP connection (`proxy_on_context_create` with
    /// the root as parent); `proxy_on_new_connection` is the driver's next call.
    pub fn create_connection(
        &mut self,
        info: Rc<StreamInfo>,
        waker: Rc<Notify>,
    ) -> Result<u32, VmFailure> {
        self.create_context(HttpStream::connection(info, waker))
    }

    /// Gives `stream` a fresh id and tells the guest (`proxy_on_context_create`, root as parent).
    fn create_context(&mut self, mut stream: HttpStream) -> Result<u32, VmFailure> {
        let state = self.state();
        let ctx = state.fresh_id();
        let root = state.root_context;
        stream.root = root;
        state.streams.insert(ctx, stream);
        self.on_context_create(ctx, root)?;
        Ok(ctx)
    }

    /// Ends connection context `ctx` in Envoy's order for a closed TCP connection: `on_done`,
    /// `on_log`, `on_delete` (an HTTP stream logs first); forgotten whatever the guest answers.
    pub fn end_connection(&mut self, ctx: u32) -> Result<(), VmFailure> {
        let Some(stream) = self.stream(ctx) else {
            return Ok(());
        };
        stream.ended = true;
        let outcome = (|| {
            if !self.on_done(ctx)? {
                self.state().pending_done.insert(ctx);
            }
            self.on_log(ctx)?;
            self.on_delete(ctx)
        })();
        let state = self.state();
        state.pending_done.remove(&ctx);
        state.streams.remove(&ctx);
        outcome
    }

    /// The state of stream context `ctx`, while it lives.
    pub fn stream(&mut self, ctx: u32) -> Option<&mut HttpStream> {
        self.state().streams.get_mut(&ctx)
    }

    /// Ends stream context `ctx`: `on_log` reads the headers as the stream left them (a map it
    /// never had reads as empty, as in Envoy, whose access-log phase substitutes empty maps)
    /// and changes none, then `on_done` and `on_delete`, which have no map (Envoy's answer is
    /// `BadArgument`); the context is forgotten whatever the guest answers.
    ///
    /// The maps are lent: `on_log` reads them in place, and they are given back unchanged (it may
    /// change none), so a chain passes the same two maps through every filter's `on_log` instead
    /// of copying them for each.
    pub fn end_stream(
        &mut self,
        ctx: u32,
        request_headers: &mut Option<HeaderMap>,
        response_headers: &mut Option<HeaderMap>,
    ) -> Result<(), VmFailure> {
        let Some(stream) = self.stream(ctx) else {
            return Ok(());
        };
        stream.request_headers = request_headers.take();
        stream.response_headers = response_headers.take();
        stream.request_body = None;
        stream.response_body = None;
        stream.logging = true;
        stream.ended = true;
        let logged = self.on_log(ctx);
        if let Some(stream) = self.stream(ctx) {
            *request_headers = stream.request_headers.take();
            *response_headers = stream.response_headers.take();
        }
        let outcome = logged.and_then(|()| {
            if let Some(stream) = self.stream(ctx) {
                stream.logging = false;
                stream.request_trailers = None;
                stream.response_trailers = None;
            }
            self.finish_context(ctx, false)
        });
        self.state().streams.remove(&ctx);
        outcome
    }

    /// `proxy_on_tick` in the root context.
    pub fn deliver_tick(&mut self) -> Result<(), VmFailure> {
        let root = self.root_context();
        self.on_tick(root)
    }

    /// `proxy_on_queue_ready` in the root context.
    pub fn deliver_queue_ready(&mut self, queue: u32) -> Result<(), VmFailure> {
        let root = self.root_context();
        self.on_queue_ready(root, queue)
    }

    /// Delivers the answer to HTTP call `token` to context `caller` (the root that made it,
    /// which makes every call, as in Envoy): readable through the call-response buffers and
    /// maps only during `proxy_on_http_call_response`. In a VM several plugins share, the root
    /// may be another plugin's than the one driving (a callback that moved to that plugin's
    /// context made the call): it runs for its own plugin, and the driver's runs again after.
    /// An answer for a context that no longer exists is dropped.
    pub fn deliver_call_response(
        &mut self,
        token: u32,
        caller: u32,
        response: CallResponse,
    ) -> Result<(), VmFailure> {
        let state = self.state();
        state.calls_in_flight.remove(&token);
        let root = match state.streams.get(&caller) {
            Some(stream) => stream.root,
            None => caller,
        };
        let driver = state.root_context;
        if !state.enter(root) {
            return Ok(());
        }
        let headers = response.headers.len() as u32;
        let body = response.body.len() as u32;
        let trailers = response.trailers.len() as u32;
        state.call_response = Some(response);
        let result = self.on_http_call_response(caller, token, headers, body, trailers);
        let state = self.state();
        state.call_response = None;
        state.enter(driver);
        result
    }

    /// Delivers what gRPC call or stream `token` received to the root context (which makes
    /// every call and stream, as in Envoy): readable through buffer 5, map 4 or 5, or
    /// `proxy_get_status` only during its callback. Nothing reaches the guest for a token it
    /// cancelled or that is over; a unary call is over with its message or its close, a stream
    /// once the server closed it and the guest closed its end.
    pub fn deliver_grpc(&mut self, token: u32, received: GrpcReceived) -> Result<(), VmFailure> {
        let state = self.state();
        if !state.grpc.is_open(token) {
            return Ok(());
        }
        let root = state.root_context;
        let (callback, n) = match &received {
            GrpcReceived::InitialMetadata(map) => (GrpcCallback::InitialMetadata, map.len()),
            GrpcReceived::Message(message) => (GrpcCallback::Message, message.len()),
            GrpcReceived::TrailingMetadata(map) => (GrpcCallback::TrailingMetadata, map.len()),
            GrpcReceived::Close { code, .. } => (GrpcCallback::Close, *code as usize),
        };
        let ends = matches!(received, GrpcReceived::Close { .. });
        state.grpc_received = Some(received);
        let result = self.on_grpc(callback, root, token, n as u32);
        let state = self.state();
        state.grpc_received = None;
        if ends {
            state.grpc.close_remote(token);
        } else if callback_ends_call(callback, token) {
            state.grpc.answered(token);
        }
        result
    }

    /// Takes the effects the callbacks so far asked for (a tick period, HTTP calls to send,
    /// gRPC commands to carry out).
    pub fn take_effects(&mut self) -> Effects {
        std::mem::take(&mut self.state().effects)
    }
}

/// Why a root context did not start.
#[derive(Debug)]
pub enum RootStartError {
    /// `proxy_on_vm_start` answered false.
    VmStartRefused,
    /// `proxy_on_configure` answered false.
    ConfigureRefused,
    /// A callback failed: the VM is failed.
    Failed(VmFailure),
}

impl RootStartError {
    /// The error that says plugin `plugin` could not start.
    pub fn for_plugin(self, plugin: String) -> StartError {
        match self {
            RootStartError::VmStartRefused => StartError::VmStartRefused { plugin },
            RootStartError::ConfigureRefused => StartError::ConfigureRefused { plugin },
            RootStartError::Failed(failure) => StartError::Callback { plugin, failure },
        }
    }
}

impl From<VmFailure> for RootStartError {
    fn from(failure: VmFailure) -> Self {
        RootStartError::Failed(failure)
    }
}

/// A unary call is over once its message is delivered (Envoy delivers it only on success, after
/// the server closed).
fn callback_ends_call(callback: GrpcCallback, token: u32) -> bool {
    matches!(callback, GrpcCallback::Message) && TokenKind::of(token) == TokenKind::Call
}
