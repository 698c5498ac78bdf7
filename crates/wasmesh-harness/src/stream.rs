//! One HTTP stream through the plugin, driven callback by callback as a proxy drives it, with
//! the proxy's part played by the harness: it keeps what the filter holds while it pauses,
//! buffers bodies while it asks, and records what it let through.

use std::net::SocketAddr;
use std::rc::Rc;

use tokio::sync::Notify;
use wasmesh_host::headers::HeaderMap;
use wasmesh_host::runtime::{Action, PluginVm, VmFailure};
use wasmesh_host::store::HttpStream;
use wasmesh_host::stream_info::StreamInfo;

use crate::error::HarnessError;
use crate::maps::{first, to_map, to_pairs};
use crate::outcome::Outcome;
use crate::plugin::Plugin;

/// The listener address streams arrive on (`destination.address`).
const LISTENER: &str = "127.0.0.1:10000";
/// The client address of [`Plugin::stream`] (`source.address`).
const CLIENT: &str = "127.0.0.1:50000";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Request,
    Response,
}

/// A stream context in the plugin. Dropping it ends the context (`on_log`, `on_done`,
/// `on_delete`), as the end of a stream does; [`Stream::end`] does the same and reports a
/// failure.
pub struct Stream {
    plugin: Plugin,
    ctx: u32,
    info: Rc<StreamInfo>,
    paused: Option<Direction>,
    request_body_sent: Vec<u8>,
    response_body_sent: Vec<u8>,
    ended: bool,
}

impl Plugin {
    /// A new stream from `127.0.0.1:50000` (`proxy_on_context_create`).
    pub fn stream(&self) -> Result<Stream, HarnessError> {
        self.stream_from(CLIENT.parse().expect("a socket address"))
    }

    /// A new stream from `client` (what `source.address` reads).
    pub fn stream_from(&self, client: SocketAddr) -> Result<Stream, HarnessError> {
        let listener = LISTENER.parse().expect("a socket address");
        let info = Rc::new(StreamInfo::new(client, listener, "HTTP/1.1", false));
        let waker = Rc::new(Notify::new());
        let ctx = self.with_vm(|vm| vm.create_stream(info.clone(), waker))?;
        Ok(Stream {
            plugin: self.clone(),
            ctx,
            info,
            paused: None,
            request_body_sent: Vec::new(),
            response_body_sent: Vec::new(),
            ended: false,
        })
    }
}

impl Stream {
    /// `proxy_on_request_headers` with these headers. The filter's changes are read back with
    /// [`Stream::request_headers_now`].
    pub fn request_headers(
        &mut self,
        headers: &[(&str, &str)],
        end_of_stream: bool,
    ) -> Result<Outcome, HarnessError> {
        self.headers(Direction::Request, headers, end_of_stream)
    }

    /// `proxy_on_request_body` with this chunk (after any the filter buffered).
    pub fn request_body(
        &mut self,
        chunk: &[u8],
        end_of_stream: bool,
    ) -> Result<Outcome, HarnessError> {
        self.body(Direction::Request, chunk, end_of_stream)
    }

    /// `proxy_on_request_trailers` with these trailers.
    pub fn request_trailers(&mut self, trailers: &[(&str, &str)]) -> Result<Outcome, HarnessError> {
        let map = to_map(trailers);
        let count = map.len() as u32;
        self.run(Direction::Request, |vm, ctx| {
            stream(vm, ctx).request_trailers = Some(map);
            vm.on_request_trailers(ctx, count)
        })
    }

    /// `proxy_on_response_headers` with these headers (their `:status` becomes
    /// `response.code`, as for an upstream's answer).
    pub fn response_headers(
        &mut self,
        headers: &[(&str, &str)],
        end_of_stream: bool,
    ) -> Result<Outcome, HarnessError> {
        let status = headers
            .iter()
            .find(|(name, _)| *name == ":status")
            .and_then(|(_, value)| value.parse().ok());
        if let Some(status) = status {
            self.info.answered(status, "via_upstream");
        }
        self.headers(Direction::Response, headers, end_of_stream)
    }

    /// `proxy_on_response_body` with this chunk (after any the filter buffered).
    pub fn response_body(
        &mut self,
        chunk: &[u8],
        end_of_stream: bool,
    ) -> Result<Outcome, HarnessError> {
        self.body(Direction::Response, chunk, end_of_stream)
    }

    /// `proxy_on_response_trailers` with these trailers.
    pub fn response_trailers(
        &mut self,
        trailers: &[(&str, &str)],
    ) -> Result<Outcome, HarnessError> {
        let map = to_map(trailers);
        let count = map.len() as u32;
        self.run(Direction::Response, |vm, ctx| {
            stream(vm, ctx).response_trailers = Some(map);
            vm.on_response_trailers(ctx, count)
        })
    }

    /// After a [`Outcome::Pause`]: what the filter has done since, from a tick or an HTTP
    /// call's answer. `None` while it still holds the stream; `Some(Continue)` once it called
    /// `proxy_continue_stream` (a body it held is then let through).
    pub fn resumed(&mut self) -> Result<Option<Outcome>, HarnessError> {
        let Some(direction) = self.paused else {
            return Ok(None);
        };
        let ctx = self.ctx;
        let outcome = self.plugin.with_vm(|vm| {
            let signals = &mut stream(vm, ctx).signals;
            if let Some(reply) = signals.local_reply.take() {
                return Ok(Some(Outcome::LocalReply(reply.into())));
            }
            if signals.close {
                return Ok(Some(Outcome::Reset));
            }
            let flag = match direction {
                Direction::Request => &mut signals.continue_request,
                Direction::Response => &mut signals.continue_response,
            };
            Ok(std::mem::take(flag).then_some(Outcome::Continue))
        })?;
        if outcome.is_some() {
            self.paused = None;
        }
        if outcome == Some(Outcome::Continue) {
            self.release_body(direction)?;
        }
        Ok(outcome)
    }

    /// The request headers as the filter left them (`None` before any were sent).
    pub fn request_headers_now(&self) -> Result<Option<Vec<(String, String)>>, HarnessError> {
        Ok(self.map(|s| &s.request_headers)?.as_ref().map(to_pairs))
    }

    /// The response headers as the filter left them.
    pub fn response_headers_now(&self) -> Result<Option<Vec<(String, String)>>, HarnessError> {
        Ok(self.map(|s| &s.response_headers)?.as_ref().map(to_pairs))
    }

    /// One request header as the filter left it.
    pub fn request_header(&self, name: &str) -> Result<Option<String>, HarnessError> {
        let pairs = self.request_headers_now()?.unwrap_or_default();
        Ok(first(&pairs, name).map(str::to_string))
    }

    /// One response header as the filter left it.
    pub fn response_header(&self, name: &str) -> Result<Option<String>, HarnessError> {
        let pairs = self.response_headers_now()?.unwrap_or_default();
        Ok(first(&pairs, name).map(str::to_string))
    }

    /// The request body the filter let through so far (what the upstream would get).
    pub fn request_body_sent(&self) -> &[u8] {
        &self.request_body_sent
    }

    /// The response body the filter let through so far (what the client would get).
    pub fn response_body_sent(&self) -> &[u8] {
        &self.response_body_sent
    }

    /// The stream's context id (what the guest sees).
    pub fn context_id(&self) -> u32 {
        self.ctx
    }

    /// Ends the stream: `on_log` (with the headers as they ended), `on_done`, `on_delete`.
    pub fn end(mut self) -> Result<(), HarnessError> {
        self.finish()
    }

    fn finish(&mut self) -> Result<(), HarnessError> {
        if std::mem::replace(&mut self.ended, true) {
            return Ok(());
        }
        let (mut request, mut response) = self.info.take_ended_headers();
        let ctx = self.ctx;
        let ended = self
            .plugin
            .with_vm(|vm| vm.end_stream(ctx, &mut request, &mut response));
        self.info.restore_ended_headers(request, response);
        ended
    }

    /// A header callback. When the filter lets the phase end (anything but a pause), the map
    /// as it left it becomes what properties and `on_log` read.
    fn headers(
        &mut self,
        direction: Direction,
        headers: &[(&str, &str)],
        end_of_stream: bool,
    ) -> Result<Outcome, HarnessError> {
        let map = to_map(headers);
        let count = map.len() as u32;
        let outcome = self.run(direction, |vm, ctx| {
            *header_slot(stream(vm, ctx), direction) = Some(map);
            match direction {
                Direction::Request => vm.on_request_headers(ctx, count, end_of_stream),
                Direction::Response => vm.on_response_headers(ctx, count, end_of_stream),
            }
        })?;
        if outcome != Outcome::Pause {
            let ended = self.map(|s| match direction {
                Direction::Request => &s.request_headers,
                Direction::Response => &s.response_headers,
            })?;
            if let Some(ended) = ended {
                match direction {
                    Direction::Request => self.info.request_headers_ended(ended),
                    Direction::Response => self.info.response_headers_ended(ended),
                }
            }
        }
        Ok(outcome)
    }

    /// Runs one callback and reads what the filter asked of the stream.
    fn run(
        &mut self,
        direction: Direction,
        callback: impl FnOnce(&mut PluginVm, u32) -> Result<Action, VmFailure>,
    ) -> Result<Outcome, HarnessError> {
        let ctx = self.ctx;
        let outcome = self.plugin.with_vm(|vm| {
            let action = callback(vm, ctx)?;
            let signals = &mut stream(vm, ctx).signals;
            if let Some(reply) = signals.local_reply.take() {
                return Ok(Outcome::LocalReply(reply.into()));
            }
            if signals.close {
                return Ok(Outcome::Reset);
            }
            Ok(match action {
                Action::Continue => Outcome::Continue,
                Action::Pause => Outcome::Pause,
            })
        })?;
        self.paused = (outcome == Outcome::Pause).then_some(direction);
        Ok(outcome)
    }

    /// A body callback: the chunk joins what the filter buffered; what it lets through is
    /// recorded as sent.
    fn body(
        &mut self,
        direction: Direction,
        chunk: &[u8],
        end_of_stream: bool,
    ) -> Result<Outcome, HarnessError> {
        match direction {
            Direction::Request => self.info.request_body_received(chunk.len()),
            Direction::Response => self.info.response_body_sent(chunk.len()),
        }
        let outcome = self.run(direction, |vm, ctx| {
            let slot = body_slot(stream(vm, ctx), direction);
            let mut body = slot.take().unwrap_or_default();
            body.extend_from_slice(chunk);
            let size = body.len() as u32;
            *slot = Some(body);
            match direction {
                Direction::Request => vm.on_request_body(ctx, size, end_of_stream),
                Direction::Response => vm.on_response_body(ctx, size, end_of_stream),
            }
        })?;
        if outcome == Outcome::Continue {
            self.release_body(direction)?;
        }
        Ok(outcome)
    }

    /// Moves what the filter held of a body to what was sent.
    fn release_body(&mut self, direction: Direction) -> Result<(), HarnessError> {
        let ctx = self.ctx;
        let held = self
            .plugin
            .with_vm(|vm| Ok(body_slot(stream(vm, ctx), direction).take()))?;
        let sent = match direction {
            Direction::Request => &mut self.request_body_sent,
            Direction::Response => &mut self.response_body_sent,
        };
        sent.extend_from_slice(&held.unwrap_or_default());
        Ok(())
    }

    /// A copy of one of the context's maps.
    fn map(
        &self,
        pick: impl FnOnce(&HttpStream) -> &Option<HeaderMap>,
    ) -> Result<Option<HeaderMap>, HarnessError> {
        let ctx = self.ctx;
        self.plugin.with_vm(|vm| Ok(pick(stream(vm, ctx)).clone()))
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        // A failure here was either reported by an earlier call or is seen by the next one.
        let _ = self.finish();
    }
}

fn stream(vm: &mut PluginVm, ctx: u32) -> &mut HttpStream {
    vm.stream(ctx)
        .expect("a stream's context lives until it ends")
}

fn body_slot(stream: &mut HttpStream, direction: Direction) -> &mut Option<Vec<u8>> {
    match direction {
        Direction::Request => &mut stream.request_body,
        Direction::Response => &mut stream.response_body,
    }
}

fn header_slot(stream: &mut HttpStream, direction: Direction) -> &mut Option<HeaderMap> {
    match direction {
        Direction::Request => &mut stream.request_headers,
        Direction::Response => &mut stream.response_headers,
    }
}
