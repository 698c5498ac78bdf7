//! Bodies and trailers through the chain: each chunk through the filters in their order (the
//! response's in reverse), held back while a filter buffers (`Pause` from a body callback) up to
//! the buffer limit, and released when it continues or the stream ends.

use super::{stream_of, ChainStream, Direction, Flow, Step};
use crate::headers::HeaderMap;
use crate::runtime::Action;
use crate::store::{HttpStream, LocalReply};

/// What a body chunk turned into after the chain.
#[derive(Debug, Default)]
pub struct BodyOut {
    /// Bytes to send on (may be empty while filters buffer).
    pub data: Vec<u8>,
    /// Trailers a filter added at the end of the stream.
    pub trailers: Option<HeaderMap>,
}

impl ChainStream {
    /// One request body chunk through the chain. Returns what reaches the
    /// upstream (possibly nothing while a filter buffers) and any trailers
    /// a filter added at the end of the stream.
    pub async fn request_body(&self, chunk: Vec<u8>, end_of_stream: bool) -> Result<BodyOut, Step> {
        self.body(chunk, end_of_stream, Direction::Request).await
    }

    /// One response body chunk through the chain (reverse order).
    pub async fn response_body(
        &self,
        chunk: Vec<u8>,
        end_of_stream: bool,
    ) -> Result<BodyOut, Step> {
        self.body(chunk, end_of_stream, Direction::Response).await
    }

    async fn body(
        &self,
        chunk: Vec<u8>,
        end_of_stream: bool,
        direction: Direction,
    ) -> Result<BodyOut, Step> {
        let order: Vec<usize> = match direction {
            Direction::Request => (0..self.filters.len()).collect(),
            Direction::Response => (0..self.filters.len()).rev().collect(),
        };
        let mut data = chunk;
        let mut trailers: Option<HeaderMap> = None;
        for i in order {
            let incoming = std::mem::take(&mut data);
            let mut passed: Option<Vec<u8>> = None;
            let mut added_trailers: Option<HeaderMap> = None;
            let mut overflow = false;
            let flow = self.invoke(i, |vm, ctx| {
                let stream = stream_of(vm, ctx);
                let body = body_slot(stream, direction).get_or_insert_with(Vec::new);
                // Only what the filter holds back counts: a filter that streams holds nothing.
                if !body.is_empty() && body.len() + incoming.len() > self.buffer_limit {
                    overflow = true;
                    *body_slot(stream, direction) = None;
                    return Ok(Action::Pause);
                }
                body.extend_from_slice(&incoming);
                let size = body.len() as u32;
                if end_of_stream {
                    // Trailers may be added at the end of a stream that has none.
                    let slot = match direction {
                        Direction::Request => &mut stream.request_trailers,
                        Direction::Response => &mut stream.response_trailers,
                    };
                    slot.get_or_insert_with(HeaderMap::new);
                }
                let action = match direction {
                    Direction::Request => vm.on_request_body(ctx, size, end_of_stream),
                    Direction::Response => vm.on_response_body(ctx, size, end_of_stream),
                };
                let stream = stream_of(vm, ctx);
                if !matches!(action, Ok(Action::Pause)) {
                    passed = body_slot(stream, direction).take();
                    if end_of_stream {
                        added_trailers = match direction {
                            Direction::Request => stream.request_trailers.take(),
                            Direction::Response => stream.response_trailers.take(),
                        }
                        .filter(|t| !t.is_empty());
                    }
                }
                action
            });
            if overflow {
                return Err(buffer_overflow(direction, self.filters[i].slot().name()));
            }
            match flow {
                Flow::Stop(step) => return Err(step),
                Flow::Continue => {
                    // A skipped filter never saw the chunk: it goes on unchanged.
                    data = passed.unwrap_or(incoming);
                }
                Flow::Pause => {
                    if !end_of_stream {
                        return Ok(BodyOut::default());
                    }
                    match self.wait_resume(i, direction).await {
                        Flow::Stop(step) => return Err(step),
                        _ => {
                            data = self
                                .take_back(i, |s| body_slot(s, direction).take())
                                .unwrap_or_default();
                        }
                    }
                }
            }
            if let Some(t) = added_trailers {
                trailers = Some(t);
            }
        }
        Ok(BodyOut { data, trailers })
    }

    /// Trailers through the chain; flushes what a filter had buffered.
    pub async fn trailers(&self, map: &mut HeaderMap, request: bool) -> Result<Vec<u8>, Step> {
        let direction = if request {
            Direction::Request
        } else {
            Direction::Response
        };
        let order: Vec<usize> = if request {
            (0..self.filters.len()).collect()
        } else {
            (0..self.filters.len()).rev().collect()
        };
        let mut flushed = Vec::new();
        for i in order {
            let count = map.len() as u32;
            let mut held = None;
            let flow = self.invoke(i, |vm, ctx| {
                let stream = stream_of(vm, ctx);
                let slot = if request {
                    &mut stream.request_trailers
                } else {
                    &mut stream.response_trailers
                };
                *slot = Some(std::mem::take(map));
                let action = if request {
                    vm.on_request_trailers(ctx, count)
                } else {
                    vm.on_response_trailers(ctx, count)
                };
                let stream = stream_of(vm, ctx);
                if !matches!(action, Ok(Action::Pause)) {
                    let slot = if request {
                        &mut stream.request_trailers
                    } else {
                        &mut stream.response_trailers
                    };
                    *map = slot.take().unwrap_or_default();
                    held = if request {
                        stream.request_body.take()
                    } else {
                        stream.response_body.take()
                    };
                }
                action
            });
            let take = move |s: &mut HttpStream| {
                if request {
                    s.request_trailers.take()
                } else {
                    s.response_trailers.take()
                }
            };
            if let Some(step) = self.settle(i, flow, direction, map, take).await {
                return Err(step);
            }
            if let Some(body) = held {
                flushed.extend_from_slice(&body);
            }
        }
        Ok(flushed)
    }
}

/// The stop when a filter would hold more than the buffer limit: Envoy's 413 for a request; a
/// response's head has gone to the client before its body reaches the filters, so its stream
/// is reset, as Envoy resets a response whose head it already sent.
fn buffer_overflow(direction: Direction, plugin: &str) -> Step {
    log::debug!("plugin {plugin:?} would hold back more than the buffer limit");
    if direction == Direction::Response {
        return Step::Reset;
    }
    Step::LocalReply(LocalReply::text(
        413,
        "Payload Too Large",
        "request_payload_too_large",
    ))
}

fn body_slot(stream: &mut HttpStream, direction: Direction) -> &mut Option<Vec<u8>> {
    match direction {
        Direction::Request => &mut stream.request_body,
        Direction::Response => &mut stream.response_body,
    }
}
