//! The response phase of a proxied stream: the upstream's head through the
//! response filters, then its body, whole when it is small and already here,
//! else streamed by [`super::pumps::response_body`].

use std::rc::Rc;

use http_body::{Body, Frame};
use hyper::body::Incoming;

use super::admission::Admission;
use super::body;
use super::downstream::Downstream;
use super::headers_conv::{response_to_map, to_http_headers};
use super::local_reply::{self, HandlerResult};
use super::pumps;
use super::timers::StreamTimers;
use wasmesh_host::chain::{ChainStream, Step};
use wasmesh_host::headers::HeaderMap;

/// Runs the upstream's response through the chain and hands it to the client.
/// The body streams under `timers` (the route timeout covers it, and the stream idle timeout
/// ends it when it stalls); the client's connection is cut when an expired response cannot
/// even be ended. `admitted` (the request's place
/// in its cluster's `max_requests`) is held until the upstream's body is over.
pub async fn respond(
    stream: Rc<ChainStream>,
    response: http::Response<Incoming>,
    timers: Rc<StreamTimers>,
    downstream: Rc<Downstream>,
    admitted: Admission,
) -> HandlerResult {
    let (mut parts, mut body) = response.into_parts();
    let is_h2 = stream.info().protocol() == "HTTP/2";
    // How the upstream's codec ends the body, which is how the filters see its end: an h2
    // upstream flags its last DATA frame, an HTTP/1 message ends after its data (Envoy's
    // codecs pass the data, then the end on its own).
    let end_flagged = parts.version == http::Version::HTTP_2;
    let mut headers = response_to_map(&parts);
    // The upstream's head, its allocation lent to the client's response head.
    let head = std::mem::take(&mut parts.headers);
    // `response.code` is readable from the response callbacks on.
    stream
        .info()
        .answered(parts.status.as_u16(), "via_upstream");
    let end_of_stream = body.is_end_stream();
    match stream.response_headers(&mut headers, end_of_stream).await {
        Step::Continue => {}
        Step::LocalReply(reply) => return local_reply::direct(&stream, reply),
        Step::Reset => return Err("stream reset by a filter".into()),
    }
    if end_of_stream {
        return local_reply::build_into(&headers, body::empty(), head);
    }
    // When the body's first frame came with the head (a small answer, the common case) it
    // is here after one turn of the worker's scheduler; if it also ends the body, the
    // filters see it now and head and body leave in one write, without a pump task.
    let first = pumps::first_frame(&mut body).await;
    let first = match first {
        Some(Some(Ok(frame))) if body.is_end_stream() => match frame.into_data() {
            Ok(data) => return whole(stream, &headers, head, data.to_vec(), end_flagged).await,
            Err(frame) => Some(Some(Ok(frame))),
        },
        Some(None) => return whole(stream, &headers, head, Vec::new(), true).await,
        other => other,
    };
    let (tx, rx) = body::channel();
    tokio::task::spawn_local(async move {
        let _admitted = admitted;
        let idle = &timers.idle;
        let pump = pumps::response_body(stream, body, first, tx.clone(), idle, end_flagged);
        tokio::select! {
            () = pump => {}
            expiry = timers.expired() => {
                // The upstream's body is dropped with the pump: its connection closes.
                log::debug!("response ended by its {expiry:?} timeout");
                let ended = tx.try_send(Err("route timeout".into())).is_ok();
                // An HTTP/1 connection carries only this stream; an h2 client that cannot even
                // take the error is not reading at all.
                if !ended || !is_h2 {
                    downstream.cut();
                }
            }
        }
    });
    local_reply::build_into(&headers, rx.boxed(), head)
}

/// A body that is all here: through the response filters at once, then sent
/// with the head. The stream's contexts finish when `stream` drops here, as
/// they would at the end of the pump. Unless `end_flagged` (h2), the data goes through
/// without the end and the end follows alone, as an HTTP/1 message's does in Envoy.
async fn whole(
    stream: Rc<ChainStream>,
    headers: &HeaderMap,
    head: http::HeaderMap,
    data: Vec<u8>,
    end_flagged: bool,
) -> HandlerResult {
    let passed = if end_flagged || data.is_empty() {
        stream.response_body(data, true).await
    } else {
        match stream.response_body(data, false).await {
            Ok(first) => stream.response_body(Vec::new(), true).await.map(|mut out| {
                let mut data = first.data;
                data.append(&mut out.data);
                out.data = data;
                out
            }),
            Err(step) => Err(step),
        }
    };
    let out = match passed {
        Ok(out) => out,
        // As after a streamed head: the client sees the stream reset.
        Err(_) => return Err("stream reset by a filter".into()),
    };
    stream.info().response_body_sent(out.data.len());
    let body = match out.trailers {
        None => body::full(out.data),
        Some(trailers) => {
            let (tx, rx) = body::channel();
            if !out.data.is_empty() {
                let _ = tx.try_send(Ok(Frame::data(out.data.into())));
            }
            let _ = tx.try_send(Ok(Frame::trailers(to_http_headers(&trailers))));
            rx.boxed()
        }
    };
    local_reply::build_into(headers, body, head)
}
