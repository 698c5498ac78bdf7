//! Tasks that stream bodies through the filter chain chunk by chunk:
//! client → filters → upstream, and upstream → filters (reverse) → client.

use std::cell::RefCell;
use std::rc::Rc;

use bytes::Bytes;
use http_body::{Body, Frame};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::sync::Notify;

use super::body::BodySender;
use super::chain::{ChainStream, Step};
use super::headers_conv::{to_http_headers, trailers_to_map};

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

/// One data chunk (with whether it ends the body) or the trailers; `None`
/// when the body failed (the error is passed on to the receiver).
async fn next_frame(
    body: &mut Incoming,
    tx: &BodySender,
) -> Option<(Vec<u8>, bool, Option<http::HeaderMap>)> {
    loop {
        return match body.frame().await {
            Some(Ok(frame)) => match frame.into_data() {
                Ok(data) => Some((data.to_vec(), body.is_end_stream(), None)),
                Err(frame) => match frame.into_trailers() {
                    Ok(t) => Some((Vec::new(), true, Some(t))),
                    Err(_) => continue,
                },
            },
            Some(Err(e)) => {
                let _ = tx.send(Err(Box::new(e))).await;
                None
            }
            None => Some((Vec::new(), true, None)),
        };
    }
}

async fn send_data(tx: &BodySender, data: Vec<u8>) -> bool {
    data.is_empty() || tx.send(Ok(Frame::data(Bytes::from(data)))).await.is_ok()
}

/// Streams the client's request body through the chain into the upstream body.
pub async fn request_body(
    stream: Rc<ChainStream>,
    mut body: Incoming,
    tx: BodySender,
    abort: Rc<RequestAbort>,
) {
    let info = stream.info().clone();
    loop {
        let Some((data, end, trailers)) = next_frame(&mut body, &tx).await else {
            return;
        };
        info.request_body_bytes
            .set(info.request_body_bytes.get() + data.len() as u64);
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

/// Streams the upstream's response body through the chain to the client;
/// the stream's contexts finish when this returns.
pub async fn response_body(stream: Rc<ChainStream>, mut body: Incoming, tx: BodySender) {
    let info = stream.info().clone();
    loop {
        let Some((data, end, trailers)) = next_frame(&mut body, &tx).await else {
            return;
        };
        if let Some(trailers) = trailers {
            let mut map = trailers_to_map(&trailers);
            match stream.trailers(&mut map, false).await {
                Ok(flushed) => {
                    info.response_body_bytes
                        .set(info.response_body_bytes.get() + flushed.len() as u64);
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
                info.response_body_bytes
                    .set(info.response_body_bytes.get() + out.data.len() as u64);
                if !send_data(&tx, out.data).await {
                    return;
                }
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
