//! Drives one HTTP stream through a listener's filter chain the way Envoy
//! does: request callbacks in chain order, response callbacks in reverse,
//! pauses that wait for `proxy_continue_stream`, bodies buffered only while
//! a filter asks (`Pause` from a body callback = StopIterationAndBuffer),
//! local replies, resets, and each plugin's `fail_open` when its VM fails. A plugin in a
//! rollout runs its canary for the streams the rollout picks ([`canary`]); a canary that fails
//! before the stream passed it hands the stream to the stable version.
//!
//! Data moves into a VM's stream context for the callback and back out
//! afterwards; while a filter pauses, the data stays in its context so later
//! callbacks (an HTTP-call response, say) can still change it.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use tokio::sync::Notify;

use crate::headers::HeaderMap;
use crate::runtime::{Action, PluginSlot, PluginVm, VmFailure};
use crate::store::time_cap::thread_cpu_time;
use crate::store::{HttpStream, LocalReply};
use crate::stream_info::StreamInfo;

/// How a phase ended for the stream.
#[derive(Debug)]
pub enum Step {
    /// Every filter let it through.
    Continue,
    /// A filter answered instead of the upstream.
    LocalReply(LocalReply),
    /// A filter closed the stream: reset it.
    Reset,
}

/// Which direction a pause waits on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Request,
    Response,
}

/// One filter's context on this stream.
struct StreamFilter {
    /// The version this stream runs (the canary's slot until it falls back).
    slot: RefCell<Rc<PluginSlot>>,
    /// This stream got the plugin's canary: its rollout and the stable version.
    canary: RefCell<Option<CanaryPick>>,
    /// The request headers have not passed this filter yet: a failing canary may still hand
    /// the stream to the stable version.
    may_fall_back: Cell<bool>,
    /// The canary just failed and the stable version took its place: run the callback again.
    fell_back: Cell<bool>,
    /// A shadow canary watches this stream beside this filter.
    shadow: Option<ShadowPick>,
    /// Context id and the VM generation it lives in, once created.
    context: Cell<Option<(u32, u64)>>,
    /// The VM failed under this stream and the plugin fails open: skip it.
    skipped: Cell<bool>,
    /// CPU time this stream's callbacks spent in the plugin (counted only with a budget).
    cpu_used: Cell<Duration>,
}

/// What one callback asked for.
enum Flow {
    Continue,
    Pause,
    Stop(Step),
}

/// A stream's pass through the chain; shared by the request-body and
/// response tasks, finished (`on_log`, `on_done`, `on_delete`) when dropped.
pub struct ChainStream {
    filters: Vec<StreamFilter>,
    /// Shadow canaries watching this stream, ended with it.
    shadows: RefCell<Vec<ShadowRun>>,
    info: Rc<StreamInfo>,
    waker: Rc<Notify>,
    pause_limit: Duration,
    /// The most body bytes one filter may hold back per direction.
    buffer_limit: usize,
    /// What the embedder runs once the filters have ended (an access log entry).
    at_end: RefCell<Option<AtEnd>>,
    /// A filter paused the request headers: Envoy then holds the body that arrives meanwhile
    /// and hands it on in one piece (see [`ChainStream::request_headers_paused`]).
    request_paused: Cell<bool>,
}

/// Run with the stream's facts when it ends, after every filter's `on_log`.
pub type AtEnd = Box<dyn FnOnce(&StreamInfo)>;

fn stream_of(vm: &mut PluginVm, ctx: u32) -> &mut HttpStream {
    vm.stream(ctx).expect("a live context has its stream state")
}

/// Local reply for a plugin whose VM failed with `fail_open: false`.
fn failed_closed(plugin: &str) -> Step {
    Step::LocalReply(LocalReply {
        status: 503,
        headers: HeaderMap::new(),
        body: format!("wasm plugin {plugin:?} failed\n").into_bytes(),
        details: "wasm_fail_closed".into(),
        grpc_status: None,
    })
}

impl StreamFilter {
    fn new(picked: Picked) -> StreamFilter {
        StreamFilter {
            slot: RefCell::new(picked.slot),
            canary: RefCell::new(picked.canary),
            shadow: picked.shadow,
            may_fall_back: Cell::new(true),
            fell_back: Cell::new(false),
            context: Cell::new(None),
            skipped: Cell::new(false),
            cpu_used: Cell::new(Duration::ZERO),
        }
    }

    /// The version this stream runs.
    fn slot(&self) -> Rc<PluginSlot> {
        self.slot.borrow().clone()
    }

    /// A step this filter chose: a canary's 5xx local reply counts against its rollout.
    fn stopped(&self, step: Step) -> Step {
        if let (Step::LocalReply(reply), Some(pick)) = (&step, self.canary.borrow().as_ref()) {
            pick.rollout.record_local_reply(reply.status);
        }
        step
    }
}

impl ChainStream {
    /// A stream over `slots` (contexts are created lazily, as Envoy does on first use).
    pub fn new(
        slots: &[Rc<PluginSlot>],
        info: Rc<StreamInfo>,
        pause_limit: Duration,
        buffer_limit: usize,
    ) -> Rc<ChainStream> {
        let filters = slots
            .iter()
            .map(|slot| {
                StreamFilter::new(Picked {
                    slot: slot.clone(),
                    canary: None,
                    shadow: None,
                })
            })
            .collect();
        ChainStream::of(filters, info, pause_limit, buffer_limit)
    }

    /// A stream over a listener's `entries`, each plugin in a rollout at the version its
    /// rollout picks for `keys`.
    pub fn with_rollouts(
        entries: &[ChainEntry],
        keys: &StickyKeys<'_>,
        info: Rc<StreamInfo>,
        pause_limit: Duration,
        buffer_limit: usize,
    ) -> Rc<ChainStream> {
        let filters = entries
            .iter()
            .map(|entry| StreamFilter::new(entry.pick(keys)))
            .collect();
        ChainStream::of(filters, info, pause_limit, buffer_limit)
    }

    fn of(
        filters: Vec<StreamFilter>,
        info: Rc<StreamInfo>,
        pause_limit: Duration,
        buffer_limit: usize,
    ) -> Rc<ChainStream> {
        Rc::new(ChainStream {
            filters,
            shadows: RefCell::new(Vec::new()),
            info,
            waker: Rc::new(Notify::new()),
            pause_limit,
            buffer_limit,
            at_end: RefCell::new(None),
            request_paused: Cell::new(false),
        })
    }

    /// Runs `at_end` when the stream ends, after the filters' `on_log` (the embedder's access
    /// log: the stream's facts are final then).
    pub fn at_end(&self, at_end: AtEnd) {
        *self.at_end.borrow_mut() = Some(at_end);
    }

    /// Whether a filter paused the request headers (and resumed, or the stream would not have
    /// gone on). Envoy buffers what the client sends meanwhile and passes it to the body
    /// callbacks in one piece, with the end of stream if it came; the embedder does the same.
    pub fn request_headers_paused(&self) -> bool {
        self.request_paused.get()
    }

    /// Facts about the stream.
    pub fn info(&self) -> &Rc<StreamInfo> {
        &self.info
    }

    fn ensure_context(&self, i: usize) -> Result<(), Step> {
        let filter = &self.filters[i];
        if filter.context.get().is_some() || filter.skipped.get() {
            return Ok(());
        }
        let info = self.info.clone();
        let waker = self.waker.clone();
        let slot = filter.slot();
        let created = slot.with_vm(|vm| vm.create_stream(info, waker));
        match created {
            Some(Ok(ctx)) => {
                filter.context.set(Some((ctx, slot.generation())));
                Ok(())
            }
            Some(Err(failure)) => self.fail(i, Some(failure.kind)),
            None => self.fail(i, None),
        }
    }

    /// The VM of filter `i` failed (`kind`), or is down after a failure (`None`): a canary
    /// counts the stream as lost to its VM either way, and hands it to the stable version if
    /// the request headers have not passed it yet; otherwise the filter is skipped or the
    /// stream refused, as its `fail_open` says.
    fn fail(&self, i: usize, kind: Option<&str>) -> Result<(), Step> {
        let filter = &self.filters[i];
        filter.context.set(None);
        if let Some(pick) = filter.canary.borrow().as_ref() {
            pick.rollout.record_failure(kind.unwrap_or("vm_down"));
        }
        if filter.may_fall_back.get() {
            if let Some(pick) = filter.canary.take() {
                pick.rollout.record_fallback();
                *filter.slot.borrow_mut() = pick.stable;
                filter.fell_back.set(true);
                return Ok(());
            }
        }
        filter.skipped.set(true);
        let slot = filter.slot();
        if slot.factory.info.fail_open {
            Ok(())
        } else {
            Err(failed_closed(slot.name()))
        }
    }

    /// Runs `f` in filter `i`'s context and reads what it asked for.
    fn invoke(
        &self,
        i: usize,
        f: impl FnOnce(&mut PluginVm, u32) -> Result<Action, VmFailure>,
    ) -> Flow {
        let filter = &self.filters[i];
        let Some((ctx, generation)) = filter.context.get() else {
            return Flow::Continue;
        };
        let slot = filter.slot();
        let budget = slot.factory.info.request_cpu;
        let cpu_before = budget.map(|_| thread_cpu_time());
        let result = slot.with_vm_of(generation, |vm| {
            let action = f(vm, ctx)?;
            let signals = &mut stream_of(vm, ctx).signals;
            if let Some(reply) = signals.local_reply.take() {
                return Ok(Flow::Stop(Step::LocalReply(reply)));
            }
            if signals.close {
                return Ok(Flow::Stop(Step::Reset));
            }
            Ok(match action {
                Action::Continue => Flow::Continue,
                Action::Pause => Flow::Pause,
            })
        });
        if let (Some(budget), Some(before)) = (budget, cpu_before) {
            let used = filter.cpu_used.get() + thread_cpu_time().saturating_sub(before);
            filter.cpu_used.set(used);
            if used > budget && matches!(result, Some(Ok(_))) {
                log::warn!(
                    "plugin {:?}: a stream spent {used:?} of CPU in it, over its request_cpu_ms budget of {budget:?}",
                    slot.name()
                );
                slot.request_cpu_exceeded();
                return match self.fail(i, Some("request_cpu")) {
                    Ok(()) => Flow::Continue,
                    Err(step) => Flow::Stop(step),
                };
            }
        }
        let failed = match result {
            Some(Ok(Flow::Stop(step))) => {
                slot.mark_healthy();
                return Flow::Stop(filter.stopped(step));
            }
            Some(Ok(flow)) => {
                slot.mark_healthy();
                return flow;
            }
            Some(Err(failure)) => Some(failure.kind),
            None => None,
        };
        match self.fail(i, failed) {
            Ok(()) => Flow::Continue,
            Err(step) => Flow::Stop(step),
        }
    }

    /// Waits until a filter replies or resets the stream outside its own callbacks (from
    /// `on_tick` or an HTTP-call answer, through `proxy_set_effective_context`), as a
    /// request timeout does while the upstream has not answered yet.
    pub async fn stopped_out_of_band(&self) -> Step {
        loop {
            for filter in &self.filters {
                let Some((ctx, generation)) = filter.context.get() else {
                    continue;
                };
                let stop = filter.slot().with_vm_of(generation, |vm| {
                    let signals = &mut stream_of(vm, ctx).signals;
                    if let Some(reply) = signals.local_reply.take() {
                        return Ok(Some(Step::LocalReply(reply)));
                    }
                    Ok(signals.close.then_some(Step::Reset))
                });
                if let Some(Ok(Some(step))) = stop {
                    return filter.stopped(step);
                }
            }
            self.waker.notified().await;
        }
    }

    /// Waits until filter `i` continues the paused direction, replies, resets,
    /// or its VM dies; a pause longer than the route timeout ends in 504.
    async fn wait_resume(&self, i: usize, direction: Direction) -> Flow {
        let filter = &self.filters[i];
        let deadline = tokio::time::Instant::now() + self.pause_limit;
        loop {
            let Some((ctx, generation)) = filter.context.get() else {
                return Flow::Continue;
            };
            let slot = filter.slot();
            let checked = slot.with_vm_of(generation, |vm| {
                let signals = &mut stream_of(vm, ctx).signals;
                if let Some(reply) = signals.local_reply.take() {
                    return Ok(Some(Flow::Stop(Step::LocalReply(reply))));
                }
                if signals.close {
                    return Ok(Some(Flow::Stop(Step::Reset)));
                }
                let flag = match direction {
                    Direction::Request => &mut signals.continue_request,
                    Direction::Response => &mut signals.continue_response,
                };
                if std::mem::take(flag) {
                    return Ok(Some(Flow::Continue));
                }
                Ok(None)
            });
            let failed = match checked {
                Some(Ok(Some(Flow::Stop(step)))) => return Flow::Stop(filter.stopped(step)),
                Some(Ok(Some(flow))) => return flow,
                Some(Ok(None)) => None,
                Some(Err(failure)) => Some(Some(failure.kind)),
                None => Some(None),
            };
            if let Some(kind) = failed {
                return match self.fail(i, kind) {
                    Ok(()) => Flow::Continue,
                    Err(step) => Flow::Stop(step),
                };
            }
            if tokio::time::timeout_at(deadline, self.waker.notified())
                .await
                .is_err()
            {
                return Flow::Stop(Step::LocalReply(LocalReply {
                    status: 504,
                    headers: HeaderMap::new(),
                    body: format!(
                        "wasm plugin {:?} paused the stream longer than the route timeout\n",
                        slot.name()
                    )
                    .into_bytes(),
                    details: "wasm_pause_timeout".into(),
                    grpc_status: None,
                }));
            }
        }
    }

    /// Takes a map a paused filter still holds (after it resumed).
    fn take_back<T>(&self, i: usize, take: impl FnOnce(&mut HttpStream) -> Option<T>) -> Option<T> {
        let filter = &self.filters[i];
        let (ctx, generation) = filter.context.get()?;
        filter
            .slot()
            .with_vm_of(generation, |vm| Ok(take(stream_of(vm, ctx))))?
            .ok()
            .flatten()
    }

    /// Request headers through every filter in order. The headers as they stand when the phase
    /// ends, a filter's local reply included, stay readable in every filter's `on_log`, as in
    /// Envoy (an access log reads `:method` of a request that got 429).
    pub async fn request_headers(&self, headers: &mut HeaderMap, end_of_stream: bool) -> Step {
        let step = self
            .request_headers_through_chain(headers, end_of_stream)
            .await;
        if self.reads_ended_headers() {
            self.info.request_headers_ended(headers.clone());
        }
        step
    }

    /// Whether anything reads the headers after their phase: a filter (properties, `on_log`) or
    /// the embedder's access log. Without either, they are not copied for nobody.
    fn reads_ended_headers(&self) -> bool {
        !self.filters.is_empty() || self.at_end.borrow().is_some()
    }

    async fn request_headers_through_chain(
        &self,
        headers: &mut HeaderMap,
        end_of_stream: bool,
    ) -> Step {
        let mut i = 0;
        while i < self.filters.len() {
            // A canary may fail halfway through changing the headers: the stable version gets
            // them as they came.
            // A shadow canary runs first, on its own copy, and only the first time round.
            if let (Some(shadow), true) =
                (&self.filters[i].shadow, self.filters[i].may_fall_back.get())
            {
                if let Some(run) = shadow.start(&self.info, headers, end_of_stream) {
                    self.shadows.borrow_mut().push(run);
                }
            }
            let before = self.filters[i]
                .canary
                .borrow()
                .is_some()
                .then(|| headers.clone());
            let step = self.request_headers_of(i, headers, end_of_stream).await;
            if self.filters[i].fell_back.take() {
                if let Some(before) = before {
                    *headers = before;
                }
                continue;
            }
            self.filters[i].may_fall_back.set(false);
            if let Some(step) = step {
                return step;
            }
            i += 1;
        }
        Step::Continue
    }

    /// Filter `i`'s request-headers callback; `Some(step)` ends the phase.
    async fn request_headers_of(
        &self,
        i: usize,
        headers: &mut HeaderMap,
        end_of_stream: bool,
    ) -> Option<Step> {
        if let Err(step) = self.ensure_context(i) {
            return Some(step);
        }
        let count = headers.len() as u32;
        let flow = self.invoke(i, |vm, ctx| {
            stream_of(vm, ctx).request_headers = Some(std::mem::take(headers));
            let action = vm.on_request_headers(ctx, count, end_of_stream);
            if !matches!(action, Ok(Action::Pause)) {
                *headers = stream_of(vm, ctx)
                    .request_headers
                    .take()
                    .unwrap_or_default();
            }
            action
        });
        if matches!(flow, Flow::Pause) {
            self.request_paused.set(true);
        }
        if let Some(step) = self
            .settle(i, flow, Direction::Request, headers, |s| {
                s.request_headers.take()
            })
            .await
        {
            // A filter that paused and then replied still holds the map.
            if let Some(held) = self.take_back(i, |s| s.request_headers.take()) {
                *headers = held;
            }
            return Some(step);
        }
        None
    }

    /// Response headers through every created filter in reverse order.
    pub async fn response_headers(&self, headers: &mut HeaderMap, end_of_stream: bool) -> Step {
        for i in (0..self.filters.len()).rev() {
            let count = headers.len() as u32;
            let flow = self.invoke(i, |vm, ctx| {
                stream_of(vm, ctx).response_headers = Some(std::mem::take(headers));
                let action = vm.on_response_headers(ctx, count, end_of_stream);
                if !matches!(action, Ok(Action::Pause)) {
                    *headers = stream_of(vm, ctx)
                        .response_headers
                        .take()
                        .unwrap_or_default();
                }
                action
            });
            if let Some(step) = self
                .settle(i, flow, Direction::Response, headers, |s| {
                    s.response_headers.take()
                })
                .await
            {
                return step;
            }
        }
        if self.reads_ended_headers() {
            self.info.response_headers_ended(headers.clone());
        } else {
            self.info.response_status_ended(headers);
        }
        Step::Continue
    }

    /// After a header callback: on pause, wait and take the (maybe changed)
    /// map back; `Some(step)` ends the phase.
    async fn settle(
        &self,
        i: usize,
        flow: Flow,
        direction: Direction,
        map: &mut HeaderMap,
        take: impl Fn(&mut HttpStream) -> Option<HeaderMap>,
    ) -> Option<Step> {
        match flow {
            Flow::Continue => None,
            Flow::Stop(step) => Some(step),
            Flow::Pause => match self.wait_resume(i, direction).await {
                Flow::Stop(step) => Some(step),
                _ => {
                    if let Some(taken) = self.take_back(i, take) {
                        *map = taken;
                    }
                    None
                }
            },
        }
    }

    /// Ends every context: `on_log`, `on_done`, `on_delete`, then forgets it. Every filter's
    /// `on_log` reads the same two maps, lent in turn (a shadow canary gets copies: it runs on
    /// its own).
    fn finish(&self) {
        for shadow in self.shadows.take() {
            let request = self.info.request_headers().clone();
            let response = self.info.response_headers().clone();
            shadow.finish(request, response);
        }
        let (mut request, mut response) = self.info.take_ended_headers();
        for filter in &self.filters {
            let Some((ctx, generation)) = filter.context.take() else {
                continue;
            };
            let _ = filter.slot().with_vm_of(generation, |vm| {
                vm.end_stream(ctx, &mut request, &mut response)
            });
        }
        self.info.restore_ended_headers(request, response);
        if let Some(at_end) = self.at_end.take() {
            at_end(&self.info);
        }
    }
}

impl Drop for ChainStream {
    fn drop(&mut self) {
        self.finish();
    }
}

mod body;
pub mod canary;

pub use body::BodyOut;
use canary::{CanaryPick, Picked, ShadowPick, ShadowRun};
pub use canary::{ChainEntry, StickyKeys};

#[cfg(test)]
mod tests;
