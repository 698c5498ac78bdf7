//! WebSocket upgrades, as Envoy proxies them when `upgrade_configs` allows: the request and the
//! upstream's `101 Switching Protocols` pass the filters' header callbacks with their `upgrade`
//! and `connection` headers, then the two upgraded connections are joined, and every chunk
//! either way passes the filters' body callbacks (client to upstream as request body, back as
//! response body), as Envoy hands an upgraded stream's bytes to its HTTP filters. The tunnel
//! ends when both sides have ended, when a filter stops it, or at the stream idle timeout (the
//! route timeout ends with the `101`, as the response head is all there is).

use std::rc::Rc;

use hyper::body::Incoming;
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::admission::Admission;
use super::body;
use super::downstream::Downstream;
use super::headers_conv::response_to_map;
use super::local_reply::{self, HandlerResult};
use super::timers::StreamTimers;
use wasmesh_host::chain::{BodyOut, ChainStream, Step};
use wasmesh_host::headers::HeaderMap;

/// The most one read takes from either side before it goes through the filters.
const CHUNK: usize = 16 * 1024;

/// The `Upgrade` protocol a request asks for, lowercased (`websocket`), ignoring `h2c` (which
/// is an offer, dropped like any hop-by-hop header, not a demand).
pub fn requested(headers: &http::HeaderMap) -> Option<String> {
    headers
        .get_all(http::header::UPGRADE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|p| p.trim().to_ascii_lowercase())
        .find(|p| p != "h2c")
}

/// Puts back the headers that make a message an upgrade (hop-by-hop, so the usual conversion
/// dropped them): filters see them, as in Envoy, and the other side needs them.
pub fn keep_upgrade_headers(from: &http::HeaderMap, into: &mut HeaderMap) {
    for name in [http::header::CONNECTION, http::header::UPGRADE] {
        for value in from.get_all(&name) {
            into.add(name.as_str().as_bytes(), value.as_bytes());
        }
    }
}

/// The upstream agreed (`101`): its head goes through the response filters to the client, and
/// the tunnel starts once both connections have switched. `connection` (the client
/// connection's place in its listener's limit) is held until the tunnel ends.
pub async fn respond(
    stream: Rc<ChainStream>,
    mut response: http::Response<Incoming>,
    downstream: OnUpgrade,
    timers: Rc<StreamTimers>,
    admitted: Admission,
    connection: Rc<Downstream>,
) -> HandlerResult {
    let upstream = hyper::upgrade::on(&mut response);
    let (parts, _) = response.into_parts();
    let mut headers = response_to_map(&parts);
    keep_upgrade_headers(&parts.headers, &mut headers);
    stream.info().answered(101, "via_upstream");
    match stream.response_headers(&mut headers, false).await {
        Step::Continue => {}
        Step::LocalReply(reply) => return local_reply::direct(&stream, reply),
        Step::Reset => return Err("stream reset by a filter".into()),
    }
    tokio::task::spawn_local(async move {
        let _held = (admitted, connection);
        let (down, up) = match tokio::try_join!(downstream, upstream) {
            Ok(both) => both,
            Err(e) => {
                log::debug!("upgrade did not complete: {e}");
                return;
            }
        };
        let (down_read, down_write) = tokio::io::split(TokioIo::new(down));
        let (up_read, up_write) = tokio::io::split(TokioIo::new(up));
        let tunnel = async {
            let client = relay(&stream, &timers, down_read, up_write, Side::Client);
            let upstream = relay(&stream, &timers, up_read, down_write, Side::Upstream);
            tokio::pin!(client, upstream);
            // One side ending leaves the other to finish (a half-close); a stop ends both.
            tokio::select! {
                Relayed::Ended = &mut client => { upstream.await; }
                Relayed::Ended = &mut upstream => { client.await; }
                else => {}
            }
        };
        tokio::select! {
            _ = tunnel => {}
            () = timers.idle.expired() => log::debug!("upgraded stream idle: closing it"),
        }
    });
    local_reply::build(&headers, body::empty())
}

/// Which way a relay carries bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    /// From the client: the request body callbacks.
    Client,
    /// From the upstream: the response body callbacks.
    Upstream,
}

/// How one direction of a tunnel finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Relayed {
    /// Its reader ended and the end was passed on: the other direction may go on.
    Ended,
    /// A side failed or a filter stopped the stream: the whole tunnel ends.
    Stopped,
}

/// Carries one direction until its reader ends (the end goes through the filters too, then the
/// writer is shut down), either side fails, or a filter stops the stream.
async fn relay(
    stream: &ChainStream,
    timers: &StreamTimers,
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    side: Side,
) -> Relayed {
    let mut buf = vec![0u8; CHUNK];
    loop {
        let Ok(n) = from.read(&mut buf).await else {
            return Relayed::Stopped;
        };
        let end = n == 0;
        timers.idle.touch();
        let out: Result<BodyOut, Step> = match side {
            Side::Client => stream.request_body(buf[..n].to_vec(), end).await,
            Side::Upstream => stream.response_body(buf[..n].to_vec(), end).await,
        };
        let Ok(out) = out else {
            return Relayed::Stopped; // a filter ended the stream
        };
        if !out.data.is_empty() && to.write_all(&out.data).await.is_err() {
            return Relayed::Stopped;
        }
        if end {
            let _ = to.shutdown().await;
            return Relayed::Ended;
        }
    }
}
