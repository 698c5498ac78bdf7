//! WebSocket upgrades, as Envoy proxies them when `upgrade_configs` allows: the request and the
//! upstream's `101 Switching Protocols` pass the filters' header callbacks with their `upgrade`
//! and `connection` headers, then the two upgraded connections are joined, and every chunk
//! either way passes the filters' body callbacks (client to upstream as request body, back as
//! response body), as Envoy hands an upgraded stream's bytes to its HTTP filters. The tunnel
//! ends when both sides have ended, when a filter stops it, or at the stream idle timeout (the
//! route timeout ends with the `101`, as the response head is all there is).

use std::future::Future;
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
        let tunnel = join_directions(
            relay(&stream, &timers, down_read, up_write, Side::Client),
            relay(&stream, &timers, up_read, down_write, Side::Upstream),
        );
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

/// Runs both directions of a tunnel: one ending leaves the other to finish (a half-close), a
/// stop on either side ends both at once. Each future is polled to completion at most once.
async fn join_directions(
    client: impl Future<Output = Relayed>,
    upstream: impl Future<Output = Relayed>,
) {
    tokio::pin!(client, upstream);
    tokio::select! {
        ended = &mut client => if ended == Relayed::Ended { upstream.await; },
        ended = &mut upstream => if ended == Relayed::Ended { client.await; },
    }
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    use super::{join_directions, Relayed};

    /// A direction that finishes as `how` after `after_ms`, and says it did in `finished`.
    async fn finishes(how: Relayed, after_ms: u64, finished: &AtomicBool) -> Relayed {
        tokio::time::sleep(Duration::from_millis(after_ms)).await;
        finished.store(true, Ordering::SeqCst);
        how
    }

    /// A direction that never finishes (a client that keeps its half open).
    async fn never() -> Relayed {
        std::future::pending().await
    }

    /// `join_directions`, failing the test if it has not returned within 5 s.
    async fn joined(
        a: impl std::future::Future<Output = Relayed>,
        b: impl std::future::Future<Output = Relayed>,
    ) {
        tokio::time::timeout(Duration::from_secs(5), join_directions(a, b))
            .await
            .expect("join_directions waited for a direction it should have left");
    }

    #[tokio::test]
    async fn a_stop_on_one_side_ends_the_tunnel_without_waiting_for_the_other() {
        // The upstream fails; the client never ends. Before this was written, the client's end
        // resumed the finished upstream future, and the worker panicked (`async fn` resumed
        // after completion), found by the http1_front fuzz target.
        let stopped = AtomicBool::new(false);
        joined(never(), finishes(Relayed::Stopped, 10, &stopped)).await;
        assert!(stopped.load(Ordering::SeqCst));
        let stopped = AtomicBool::new(false);
        joined(finishes(Relayed::Stopped, 10, &stopped), never()).await;
        assert!(stopped.load(Ordering::SeqCst));
    }

    #[tokio::test]
    async fn one_side_ending_leaves_the_other_to_finish() {
        let (first, second) = (AtomicBool::new(false), AtomicBool::new(false));
        joined(
            finishes(Relayed::Ended, 10, &first),
            finishes(Relayed::Ended, 200, &second),
        )
        .await;
        assert!(first.load(Ordering::SeqCst) && second.load(Ordering::SeqCst));
        let (first, second) = (AtomicBool::new(false), AtomicBool::new(false));
        joined(
            finishes(Relayed::Stopped, 200, &first),
            finishes(Relayed::Ended, 10, &second),
        )
        .await;
        assert!(first.load(Ordering::SeqCst) && second.load(Ordering::SeqCst));
    }
}
