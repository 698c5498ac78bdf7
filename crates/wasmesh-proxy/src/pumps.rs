//! Tasks that stream bodies through the filter chain chunk by chunk:
//! client → filters → upstream, and upstream → filters (reverse) → client.
//!
//! They read any [`Body`] of [`Bytes`] (hyper's `Incoming` in the proxy), so their tests feed
//! them bodies of their own, frame by frame.

use std::cell::RefCell;
use std::pin::Pin;
use std::rc::Rc;
use std::task::Poll;

use bytes::Bytes;
use http_body::{Body, Frame};
use http_body_util::BodyExt;
use tokio::sync::Notify;

use super::body::{BodySender, BoxError, MAX_FRAME};
use super::headers_conv::{to_http_headers, trailers_to_map};
use super::timers::{StreamIdle, StreamTimers};
use wasmesh_host::chain::{ChainStream, Step};
use wasmesh_host::store::LocalReply;

/// A request-phase stop (local reply or reset) raised while the body streams,
/// for the handler that waits on the upstream.
#[derive(Default)]
pub struct RequestAbort {
    /// What a filter decided.
    pub step: RefCell<Option<Step>>,
    /// Woken when `step` is set.
    pub notify: Notify,
}

impl RequestAbort {
    fn raise(&self, step: Step) {
        *self.step.borrow_mut() = Some(step);
        self.notify.notify_one();
    }

    /// Waits until a filter stops the request.
    pub async fn wait(&self) -> Step {
        loop {
            if let Some(step) = self.step.borrow_mut().take() {
                return step;
            }
            self.notify.notified().await;
        }
    }
}

/// A frame as `Incoming::frame` yields it.
pub type Polled<E = hyper::Error> = Option<Result<Frame<Bytes>, E>>;

/// What the pumps can read: a body of [`Bytes`] whose error can be passed on.
pub trait ReadBody: Body<Data = Bytes, Error = Self::Failure> + Unpin {
    /// The body's error.
    type Failure: std::error::Error + Send + Sync + 'static;
}

impl<B> ReadBody for B
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    type Failure = B::Error;
}

/// One data chunk (with whether it ends the body) or the trailers; `None`
/// when the body failed (the error is passed on to the receiver).
async fn next_frame<B: ReadBody>(
    body: &mut B,
    tx: &BodySender,
    end_flagged: bool,
) -> Option<(Vec<u8>, bool, Option<http::HeaderMap>)> {
    loop {
        let polled = body.frame().await;
        if let Some(frame) = decode(body, polled, tx, end_flagged).await {
            return frame;
        }
    }
}

/// What [`next_frame`] makes of one polled frame; `None` for a frame of
/// another kind, to be skipped. The last data ends the body only when the codec flags it
/// (`end_flagged`, h2), as in [`client_frame`].
async fn decode<B: ReadBody>(
    body: &B,
    polled: Polled<B::Failure>,
    tx: &BodySender,
    end_flagged: bool,
) -> Option<Option<(Vec<u8>, bool, Option<http::HeaderMap>)>> {
    Some(match polled {
        Some(Ok(frame)) => match frame.into_data() {
            Ok(data) => Some((data.to_vec(), end_flagged && body.is_end_stream(), None)),
            Err(frame) => match frame.into_trailers() {
                Ok(t) => Some((Vec::new(), true, Some(t))),
                Err(_) => return None,
            },
        },
        Some(Err(e)) => {
            let _ = tx.send(Err(BoxError::from(e))).await;
            None
        }
        None => Some((Vec::new(), true, None)),
    })
}

/// The body's first frame if the upstream's connection delivers it within
/// one turn of the worker's scheduler (a small answer: it came with the
/// head); `None` if it is not there yet.
pub async fn first_frame<B: ReadBody>(body: &mut B) -> Option<Polled<B::Failure>> {
    if let Some(polled) = poll_once(body).await {
        return Some(polled);
    }
    // Asked once: the connection's task now hands the frame over, if it has it.
    tokio::task::yield_now().await;
    poll_once(body).await
}

/// Polls `body` for a frame once, without waiting.
async fn poll_once<B: ReadBody>(body: &mut B) -> Option<Polled<B::Failure>> {
    std::future::poll_fn(|cx| {
        Poll::Ready(match Pin::new(&mut *body).poll_frame(cx) {
            Poll::Ready(polled) => Some(polled),
            Poll::Pending => None,
        })
    })
    .await
}

/// Hands `data` to the receiving body in frames of at most [`MAX_FRAME`] (a filter may pass
/// on a whole buffered body at once), each waiting for room: `false` once the receiver is gone.
async fn send_data(tx: &BodySender, data: Vec<u8>) -> bool {
    let mut data = Bytes::from(data);
    while !data.is_empty() {
        let frame = data.split_to(data.len().min(MAX_FRAME));
        if tx.send(Ok(Frame::data(frame))).await.is_err() {
            return false;
        }
    }
    true
}

/// The client's next data chunk (with whether it ends the body) or its trailers; the error
/// when its body fails.
///
/// The end comes as Envoy's codecs pass it to the filters: h2 flags the last DATA frame
/// (`end_flagged`: one `on_request_body` with the data and `end_of_stream`), while an HTTP/1
/// message ends after its last data, so that data goes through with `end_of_stream` false and
/// the end follows on its own, with nothing more.
async fn client_frame<B: ReadBody>(
    body: &mut B,
    end_flagged: bool,
) -> Result<(Vec<u8>, bool, Option<http::HeaderMap>), B::Failure> {
    loop {
        let Some(frame) = body.frame().await.transpose()? else {
            return Ok((Vec::new(), true, None));
        };
        match frame.into_data() {
            Ok(data) => return Ok((data.to_vec(), end_flagged && body.is_end_stream(), None)),
            Err(frame) => {
                if let Ok(trailers) = frame.into_trailers() {
                    return Ok((Vec::new(), true, Some(trailers)));
                }
            }
        }
    }
}

/// What a failed client body ends the stream with. The failure is the client's, never the
/// upstream's: a body that does not parse (a chunk size that is not hex, or overflows) is
/// Envoy's `400 Bad Request`; a client that went away mid-body resets the stream. Either way
/// the upstream request is abandoned before it can fail and be counted against the endpoint.
fn client_body_failed(error: &(dyn std::error::Error + 'static)) -> Step {
    let malformed = error
        .source()
        .and_then(|source| source.downcast_ref::<std::io::Error>())
        .is_some_and(|io| {
            matches!(
                io.kind(),
                std::io::ErrorKind::InvalidInput | std::io::ErrorKind::InvalidData
            )
        });
    if !malformed {
        log::debug!("client body ended early: {error}");
        return Step::Reset;
    }
    log::debug!("client body malformed: {error}");
    // Envoy's details for any HTTP/1 codec error: the client's, with no response flag.
    let mut reply = LocalReply::text(400, "Bad Request", "http1.codec_error");
    reply.headers.add(b"connection", b"close");
    Step::LocalReply(reply)
}

/// What the client sent while a filter held the request headers, in one piece as Envoy passes
/// it on: `first` and every frame already read, up to the end (then `end` is true) or the
/// trailers (returned apart, for the next turn); the error if the body fails.
async fn arrived_meanwhile<B: ReadBody>(
    body: &mut B,
    first: (Vec<u8>, bool),
) -> Result<(Vec<u8>, bool, Option<http::HeaderMap>), B::Failure> {
    let (mut data, mut end) = first;
    end |= body.is_end_stream();
    while !end {
        // What the connection has read is handed over within a turn of the worker (as for
        // [`first_frame`]); what has not arrived yet is not waited for.
        let Some(polled) = first_frame(body).await else {
            break;
        };
        match polled {
            Some(Ok(frame)) => match frame.into_data() {
                Ok(more) => {
                    data.extend_from_slice(&more);
                    end = body.is_end_stream();
                }
                Err(frame) => return Ok((data, false, frame.into_trailers().ok())),
            },
            None => end = true,
            Some(Err(e)) => return Err(e),
        }
    }
    Ok((data, end, None))
}

/// Streams the client's request body through the chain into the upstream body.
pub async fn request_body<B: ReadBody>(
    stream: Rc<ChainStream>,
    mut body: B,
    tx: BodySender,
    abort: Rc<RequestAbort>,
    timers: Rc<StreamTimers>,
) {
    let info = stream.info().clone();
    let end_flagged = info.protocol() == "HTTP/2";
    let mut coalesce = stream.request_headers_paused();
    let mut held_trailers = None;
    loop {
        let frame = match held_trailers.take() {
            Some(trailers) => Ok((Vec::new(), true, Some(trailers))),
            None => client_frame(&mut body, end_flagged).await,
        };
        let frame = match frame {
            Ok((data, end, None)) if std::mem::take(&mut coalesce) => {
                arrived_meanwhile(&mut body, (data, end))
                    .await
                    .map(|(data, end, trailers)| {
                        held_trailers = trailers;
                        (data, end, None)
                    })
            }
            frame => frame,
        };
        let (data, end, trailers) = match frame {
            Ok(frame) => frame,
            Err(e) => {
                abort.raise(client_body_failed(&e));
                // The upstream body fails too, so a truncated body never ends cleanly there.
                let _ = tx.send(Err(BoxError::from(e))).await;
                return;
            }
        };
        info.request_body_received(data.len());
        timers.idle.touch();
        if end {
            timers.route.request_complete();
        }
        if let Some(trailers) = trailers {
            let mut map = trailers_to_map(&trailers);
            match stream.trailers(&mut map, true).await {
                Ok(flushed) => {
                    if send_data(&tx, flushed).await {
                        let _ = tx.send(Ok(Frame::trailers(to_http_headers(&map)))).await;
                    }
                }
                Err(step) => abort.raise(step),
            }
            return;
        }
        match stream.request_body(data, end).await {
            Ok(out) => {
                if !send_data(&tx, out.data).await {
                    return;
                }
                if let Some(t) = out.trailers {
                    let _ = tx.send(Ok(Frame::trailers(to_http_headers(&t)))).await;
                }
            }
            Err(step) => {
                abort.raise(step);
                return;
            }
        }
        if end {
            return;
        }
    }
}

/// Streams the upstream's response body through the chain to the client; each chunk the
/// client's connection takes is activity for `idle`. The stream's contexts finish when this
/// returns. `end_flagged`: the upstream speaks h2, whose last DATA frame carries the end.
pub async fn response_body<B: ReadBody>(
    stream: Rc<ChainStream>,
    mut body: B,
    first: Option<Polled<B::Failure>>,
    tx: BodySender,
    idle: &StreamIdle,
    end_flagged: bool,
) {
    let info = stream.info().clone();
    let mut first = first;
    loop {
        let frame = match first.take() {
            Some(polled) => match decode(&body, polled, &tx, end_flagged).await {
                Some(frame) => frame,
                None => continue,
            },
            None => next_frame(&mut body, &tx, end_flagged).await,
        };
        let Some((data, end, trailers)) = frame else {
            return;
        };
        if let Some(trailers) = trailers {
            let mut map = trailers_to_map(&trailers);
            match stream.trailers(&mut map, false).await {
                Ok(flushed) => {
                    info.response_body_sent(flushed.len());
                    if send_data(&tx, flushed).await {
                        let _ = tx.send(Ok(Frame::trailers(to_http_headers(&map)))).await;
                    }
                }
                Err(_) => {
                    let _ = tx.send(Err("stream reset by a filter".into())).await;
                }
            }
            return;
        }
        match stream.response_body(data, end).await {
            Ok(out) => {
                info.response_body_sent(out.data.len());
                if !send_data(&tx, out.data).await {
                    return;
                }
                idle.touch();
                if let Some(t) = out.trailers {
                    let _ = tx.send(Ok(Frame::trailers(to_http_headers(&t)))).await;
                }
            }
            Err(_) => {
                // Headers are already on their way: all that is left is to reset.
                let _ = tx.send(Err("stream reset by a filter".into())).await;
                return;
            }
        }
        if end {
            return;
        }
    }
}

#[cfg(test)]
mod tests;
