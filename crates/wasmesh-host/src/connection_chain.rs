//! Drives one TCP connection through a listener's network filters the way Envoy's filter
//! manager does with `envoy.filters.network.wasm` in front of `tcp_proxy`:
//!
//! - **Read filters, in chain order.** A filter is initialized (context created,
//!   `proxy_on_new_connection`) when iteration first reaches it, then gets
//!   `proxy_on_downstream_data` in the same pass when there are bytes or the client ended its
//!   side. `StopIteration` holds the bytes in that filter; the next bytes from the client are
//!   appended and iteration starts again from the first filter (Envoy's read buffer is not
//!   drained while a filter holds it), and `proxy_continue_stream(DOWNSTREAM)` resumes after the
//!   filter that held them. A filter that stopped in `proxy_on_new_connection` is not called
//!   again before it resumes: the bytes wait, as in Envoy.
//! - **Write filters, in reverse order**, every one that was initialized: `proxy_on_upstream_data`,
//!   then, for the upstream's end of stream, `proxy_on_upstream_connection_close(UNKNOWN)` (Envoy
//!   reports the upstream side only this way). A hold keeps the bytes; the next ones are
//!   appended and iteration starts again. Envoy cannot resume this direction, nor can wasmesh.
//! - **Close.** `proxy_close_stream` of either side, from a callback or out of band, closes the
//!   connection (in Envoy both act on the client's connection, which then takes the upstream
//!   down). When the connection is gone each filter gets
//!   `proxy_on_downstream_connection_close(peer)`, then `on_done`, `on_log`, `on_delete`.
//! - **A failed VM**: the filter is skipped for the rest of the connection (`fail_open`) or the
//!   connection is closed.
//!
//! The bytes a filter holds live in its context's buffer, so a later callback (an HTTP-call
//! answer, say) may still read or change them before it resumes.

use std::cell::Cell;
use std::rc::Rc;

use tokio::sync::Notify;

use crate::runtime::{Action, Flow, PeerType, PluginSlot, PluginVm, VmFailure};
use crate::store::{ConnectionData, HttpStream};
use crate::stream_info::StreamInfo;

/// What became of the bytes of one pass through the filters.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every filter let them through (as the filters left them): send them on.
    Pass(Vec<u8>),
    /// A filter holds them.
    Held,
    /// A filter closed the connection, or a VM that fails closed failed.
    Close,
}

/// Something a filter asked for outside the callbacks that carry data (from `on_tick` or an
/// HTTP-call answer, through `proxy_set_effective_context`).
#[derive(Debug, PartialEq, Eq)]
pub enum Signal {
    /// `proxy_continue_stream(DOWNSTREAM)` from the filter holding the client's bytes.
    Resume,
    /// `proxy_close_stream`: close the connection.
    Close,
}

/// One network filter's state on this connection.
struct NetworkFilter {
    slot: Rc<PluginSlot>,
    /// Context id and the VM generation it lives in, once initialized.
    context: Cell<Option<(u32, u64)>>,
    /// `proxy_on_new_connection` has been called (or the filter was skipped).
    initialized: Cell<bool>,
    /// The VM failed and the plugin fails open: skip it.
    skipped: Cell<bool>,
}

/// A connection's pass through the listener's network filters.
pub struct ConnectionChain {
    filters: Vec<NetworkFilter>,
    info: Rc<StreamInfo>,
    waker: Rc<Notify>,
    /// The read filter holding the client's bytes.
    downstream_holder: Cell<Option<usize>>,
    /// It holds them from `proxy_on_new_connection`: nothing is offered to any filter until it
    /// resumes (Envoy does not call a filter that stopped there again before it continues).
    held_at_start: Cell<bool>,
    /// The write filter holding the upstream's bytes.
    upstream_holder: Cell<Option<usize>>,
    /// The client ended its side: every later pass carries end of stream.
    downstream_ended: Cell<bool>,
    /// The filters have been told the connection is gone.
    ended: Cell<bool>,
}

impl ConnectionChain {
    /// A connection through `slots`, in chain order; nothing runs until [`ConnectionChain::start`].
    pub fn new(slots: &[Rc<PluginSlot>], info: Rc<StreamInfo>) -> ConnectionChain {
        ConnectionChain {
            filters: slots
                .iter()
                .map(|slot| NetworkFilter {
                    slot: slot.clone(),
                    context: Cell::new(None),
                    initialized: Cell::new(false),
                    skipped: Cell::new(false),
                })
                .collect(),
            info,
            waker: Rc::new(Notify::new()),
            downstream_holder: Cell::new(None),
            held_at_start: Cell::new(false),
            upstream_holder: Cell::new(None),
            downstream_ended: Cell::new(false),
            ended: Cell::new(false),
        }
    }

    /// Facts about the connection.
    pub fn info(&self) -> &Rc<StreamInfo> {
        &self.info
    }

    /// The connection was accepted: `proxy_on_new_connection` in chain order. `Pass` (with no
    /// bytes) means every filter let it through and the upstream may be connected.
    pub fn start(&self) -> Verdict {
        self.read_pass(0, Vec::new())
    }

    /// Bytes from the client (`eos`: it ended its side), appended to any a filter holds and
    /// passed through the read filters from the first.
    pub fn from_downstream(&self, bytes: &[u8], eos: bool) -> Verdict {
        if eos {
            self.downstream_ended.set(true);
        }
        if self.held_at_start.get() {
            if let Some(holder) = self.downstream_holder.get() {
                let mut data = self.take_held(Flow::Downstream);
                data.extend_from_slice(bytes);
                self.hold(holder, Flow::Downstream, data);
                return Verdict::Held;
            }
        }
        let mut data = self.take_held(Flow::Downstream);
        data.extend_from_slice(bytes);
        self.read_pass(0, data)
    }

    /// The holding filter resumed: its bytes go on through the filters after it.
    pub fn resume_downstream(&self) -> Verdict {
        let Some(holder) = self.downstream_holder.get() else {
            return Verdict::Pass(Vec::new());
        };
        let data = self.take_held(Flow::Downstream);
        self.read_pass(holder + 1, data)
    }

    /// Bytes from the upstream (`eos`: it ended its side), appended to any a filter holds and
    /// passed through the write filters in reverse order.
    pub fn from_upstream(&self, bytes: &[u8], eos: bool) -> Verdict {
        let mut data = self.take_held(Flow::Upstream);
        data.extend_from_slice(bytes);
        for i in (0..self.filters.len()).rev() {
            if self.filters[i].context.get().is_none() {
                continue;
            }
            match self.data_callback(i, Flow::Upstream, data, eos) {
                Step::Next(rest) => data = rest,
                Step::Held => {
                    self.upstream_holder.set(Some(i));
                    return Verdict::Held;
                }
                Step::Close => return Verdict::Close,
            }
        }
        Verdict::Pass(data)
    }

    /// How many bytes a filter holds in `direction` (the embedder stops reading that side past
    /// its buffer limit, as Envoy disables reading).
    pub fn held_bytes(&self, direction: Flow) -> usize {
        let holder = match direction {
            Flow::Downstream => self.downstream_holder.get(),
            Flow::Upstream => self.upstream_holder.get(),
        };
        let Some(filter) = holder.map(|i| &self.filters[i]) else {
            return 0;
        };
        let Some((ctx, generation)) = filter.context.get() else {
            return 0;
        };
        filter
            .slot
            .with_vm_of(generation, |vm| {
                Ok(buffer_of(stream_of(vm, ctx), direction)
                    .as_ref()
                    .map_or(0, Vec::len))
            })
            .and_then(Result::ok)
            .unwrap_or(0)
    }

    /// Waits until a filter resumes the client's bytes or closes the connection out of band.
    pub async fn signalled(&self) -> Signal {
        loop {
            for (i, filter) in self.filters.iter().enumerate() {
                let Some((ctx, generation)) = filter.context.get() else {
                    continue;
                };
                let holder = self.downstream_holder.get() == Some(i);
                let signal = filter.slot.with_vm_of(generation, |vm| {
                    let signals = &mut stream_of(vm, ctx).signals;
                    if signals.close_downstream || signals.close_upstream {
                        return Ok(Some(Signal::Close));
                    }
                    let resume = std::mem::take(&mut signals.continue_downstream);
                    Ok((resume && holder).then_some(Signal::Resume))
                });
                match signal {
                    Some(Ok(Some(signal))) => return signal,
                    Some(Ok(None)) => {}
                    // The VM died under the connection: its next pass takes `fail_open`.
                    Some(Err(_)) | None if !filter.slot.factory.info.fail_open => {
                        return Signal::Close
                    }
                    _ => {}
                }
            }
            self.waker.notified().await;
        }
    }

    /// The connection is gone (`peer` closed it): every initialized filter gets
    /// `proxy_on_downstream_connection_close`, then `on_done`, `on_log`, `on_delete`. Only the
    /// first call does anything.
    pub fn closed(&self, peer: PeerType) {
        if self.ended.replace(true) {
            return;
        }
        for filter in &self.filters {
            let Some((ctx, generation)) = filter.context.take() else {
                continue;
            };
            filter.slot.with_vm_of(generation, |vm| {
                let closed = vm.on_connection_close(Flow::Downstream, ctx, peer);
                let ended = vm.end_connection(ctx);
                closed.and(ended)
            });
        }
    }

    /// One pass of the client's bytes through the read filters from `from`.
    fn read_pass(&self, from: usize, mut data: Vec<u8>) -> Verdict {
        self.downstream_holder.set(None);
        self.held_at_start.set(false);
        let eos = self.downstream_ended.get();
        for i in from..self.filters.len() {
            let filter = &self.filters[i];
            if !filter.initialized.replace(true) {
                match self.initialize(i) {
                    Step::Next(()) => {}
                    Step::Held => {
                        self.hold(i, Flow::Downstream, data);
                        self.held_at_start.set(true);
                        return Verdict::Held;
                    }
                    Step::Close => return Verdict::Close,
                }
            }
            if filter.context.get().is_none() || (data.is_empty() && !eos) {
                continue;
            }
            match self.data_callback(i, Flow::Downstream, data, eos) {
                Step::Next(rest) => data = rest,
                Step::Held => {
                    self.downstream_holder.set(Some(i));
                    return Verdict::Held;
                }
                Step::Close => return Verdict::Close,
            }
        }
        Verdict::Pass(data)
    }

    /// Creates filter `i`'s context and calls `proxy_on_new_connection`.
    fn initialize(&self, i: usize) -> Step<()> {
        let filter = &self.filters[i];
        let (info, waker) = (self.info.clone(), self.waker.clone());
        let result = filter.slot.with_vm(|vm| {
            let ctx = vm.create_connection(info, waker)?;
            let generation = filter.slot.generation();
            filter.context.set(Some((ctx, generation)));
            let action = vm.on_new_connection(ctx)?;
            Ok(after_callback(vm, ctx, action))
        });
        self.settle(i, result, ())
    }

    /// Runs filter `i`'s data callback for `direction` over `data`.
    fn data_callback(&self, i: usize, direction: Flow, data: Vec<u8>, eos: bool) -> Step<Vec<u8>> {
        let filter = &self.filters[i];
        let Some((ctx, generation)) = filter.context.get() else {
            return Step::Next(data);
        };
        let mut data = Some(data);
        let result = filter.slot.with_vm_of(generation, |vm| {
            let size = data.as_ref().map_or(0, Vec::len) as u32;
            *buffer_of(stream_of(vm, ctx), direction) = data.take();
            let called = vm
                .on_connection_data(direction, ctx, size, eos)
                .and_then(|action| {
                    if eos && direction == Flow::Upstream {
                        vm.on_connection_close(Flow::Upstream, ctx, PeerType::Unknown)?;
                    }
                    Ok(action)
                });
            let action = match called {
                Ok(action) => action,
                Err(failure) => {
                    // The host's state outlives the guest's trap: the bytes go back to the
                    // chain, for a plugin that fails open to pass on.
                    data = buffer_of(stream_of(vm, ctx), direction).take();
                    return Err(failure);
                }
            };
            let step = after_callback(vm, ctx, action);
            let bytes = buffer_of(stream_of(vm, ctx), direction);
            Ok(match step {
                // A holding filter keeps the bytes in its context.
                Step::Held => Step::Held,
                Step::Next(()) => Step::Next(bytes.take().unwrap_or_default()),
                Step::Close => Step::Close,
            })
        });
        match result {
            Some(Ok(step)) => {
                filter.slot.mark_healthy();
                step
            }
            Some(Err(failure)) => self.settle(i, Some(Err(failure)), data.unwrap_or_default()),
            None => self.settle(i, None, data.unwrap_or_default()),
        }
    }

    /// Reads a callback's result: a failed or missing VM skips the filter (`fail_open`) or
    /// closes the connection.
    fn settle<T>(&self, i: usize, result: Option<Result<Step<()>, VmFailure>>, pass: T) -> Step<T> {
        let filter = &self.filters[i];
        match result {
            Some(Ok(step)) => {
                filter.slot.mark_healthy();
                match step {
                    Step::Next(()) => Step::Next(pass),
                    Step::Held => Step::Held,
                    Step::Close => Step::Close,
                }
            }
            Some(Err(_)) | None => {
                filter.context.set(None);
                filter.skipped.set(true);
                if filter.slot.factory.info.fail_open {
                    Step::Next(pass)
                } else {
                    Step::Close
                }
            }
        }
    }

    /// Leaves `data` in filter `i`'s context, held.
    fn hold(&self, i: usize, direction: Flow, data: Vec<u8>) {
        let filter = &self.filters[i];
        if let Some((ctx, generation)) = filter.context.get() {
            filter.slot.with_vm_of(generation, |vm| {
                *buffer_of(stream_of(vm, ctx), direction) = Some(data);
                Ok(())
            });
        }
        match direction {
            Flow::Downstream => self.downstream_holder.set(Some(i)),
            Flow::Upstream => self.upstream_holder.set(Some(i)),
        }
    }

    /// Takes back the bytes a filter holds in `direction` (none if its VM went away).
    fn take_held(&self, direction: Flow) -> Vec<u8> {
        let holder = match direction {
            Flow::Downstream => self.downstream_holder.take(),
            Flow::Upstream => self.upstream_holder.take(),
        };
        let Some(filter) = holder.map(|i| &self.filters[i]) else {
            return Vec::new();
        };
        let Some((ctx, generation)) = filter.context.get() else {
            return Vec::new();
        };
        filter
            .slot
            .with_vm_of(generation, |vm| {
                Ok(buffer_of(stream_of(vm, ctx), direction).take())
            })
            .and_then(Result::ok)
            .flatten()
            .unwrap_or_default()
    }
}

impl Drop for ConnectionChain {
    /// A connection dropped without being closed (its worker stopping) still ends its contexts.
    fn drop(&mut self) {
        self.closed(PeerType::Local);
    }
}

/// How one filter's callback ended.
enum Step<T> {
    /// Go on to the next filter with this.
    Next(T),
    /// The filter holds the bytes.
    Held,
    /// Close the connection.
    Close,
}

/// What the filter asked for in its callback: a close wins, then a resume (Envoy runs a
/// `proxy_continue_stream` from inside the callback once it returns), then its answer.
fn after_callback(vm: &mut PluginVm, ctx: u32, action: Action) -> Step<()> {
    let signals = &mut stream_of(vm, ctx).signals;
    if signals.close_downstream || signals.close_upstream {
        return Step::Close;
    }
    let resumed = std::mem::take(&mut signals.continue_downstream);
    match action {
        Action::Pause if !resumed => Step::Held,
        _ => Step::Next(()),
    }
}

fn stream_of(vm: &mut PluginVm, ctx: u32) -> &mut HttpStream {
    vm.stream(ctx).expect("a live context has its stream state")
}

fn buffer_of(stream: &mut HttpStream, direction: Flow) -> &mut Option<Vec<u8>> {
    let data: &mut ConnectionData = stream
        .connection
        .as_mut()
        .expect("a connection's context has connection data");
    match direction {
        Flow::Downstream => &mut data.downstream,
        Flow::Upstream => &mut data.upstream,
    }
}
