//! A TCP listener's connection (`listeners[].tcp_proxy`): the listener's network filters
//! (`crates/wasmesh-host/src/connection_chain.rs`) in front of a relay to one endpoint of the
//! cluster, as Envoy's `envoy.filters.network.wasm` filters in front of `tcp_proxy` do.
//!
//! The upstream is connected once every filter let the connection through
//! (`proxy_on_new_connection`), or once the first bytes pass them when one held it. Each side's
//! end of stream is passed on as a half-close, so a client that shuts its side down still gets
//! the rest of the answer; the connection ends when both sides have ended, when either side
//! fails, when a filter closes it, or after `idle_timeout_ms` with no byte moving. While a
//! filter holds bytes, the side they come from is not read past the listener's
//! `per_connection_buffer_limit_bytes` (Envoy's read-disable at its buffer limit). Each
//! connection is counted when it ends: per listener, its bytes each way, and whether it was
//! closed for its upstream or for being idle (`wasmesh_tcp_*` at `/metrics`), and written to the
//! listener's access log if it has one (Envoy's `tcp_proxy` `access_log`: the bytes each way,
//! the duration, the upstream, `UH`/`UF,URX`/`NC` when there was none).

use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;
use wasmesh_host::connection_chain::{ConnectionChain, Signal, Verdict};
use wasmesh_host::runtime::{Flow, PeerType};
use wasmesh_host::stream_info::{response_flags, StreamInfo};

use super::connector::CountedConnection;
use super::downstream::Downstream;
use super::upstream::Upstreams;
use super::worker_view::WorkerView;
use crate::spec::TcpProxyConfig;

/// Bytes read from either side at a time.
const READ_CHUNK: usize = 16 * 1024;

type Upstream = TokioIo<CountedConnection>;

/// Serves one accepted connection of TCP listener `name` until it ends.
pub async fn serve_tcp<S>(io: S, downstream: Downstream, worker: Rc<dyn WorkerView>, name: Rc<str>)
where
    S: AsyncRead + AsyncWrite + Unpin + 'static,
{
    let Some(listener) = worker.listener(&name) else {
        return; // the listener went away with a reload
    };
    let Some(tcp) = listener.config.tcp_proxy.clone() else {
        return;
    };
    let info = StreamInfo::new(downstream.peer(), downstream.local(), "", false)
        .with_tls(downstream.tls());
    let slots: Vec<_> = listener.chain.iter().map(|e| e.stable.clone()).collect();
    let chain = ConnectionChain::new(&slots, Rc::new(info));
    let hold_limit = listener.config.per_connection_buffer_limit_bytes as usize;
    let upstreams = listener.upstreams.clone();
    let access_log = listener.access_log.clone();
    drop(listener);
    let mut relay = Relay {
        chain: &chain,
        tcp: &tcp,
        upstreams: &upstreams,
        hold_limit,
        downstream: Side::new(io),
        upstream: None,
        upstream_ended: false,
        downstream_shut_first: false,
        received: 0,
        sent: 0,
        ended_by: None,
    };
    let peer = relay.run().await;
    let overload = worker.overload();
    overload.tcp_connections.inc(&name);
    overload.tcp_received_bytes.add(&name, relay.received);
    overload.tcp_sent_bytes.add(&name, relay.sent);
    match relay.ended_by {
        Some(Cause::ConnectFailure) => overload.tcp_connect_failures.inc(&name),
        Some(Cause::Idle) => overload.tcp_idle_timeouts.inc(&name),
        None => {}
    }
    log::debug!(
        "listener {name}: connection from {} closed ({})",
        downstream.peer(),
        match peer {
            PeerType::Remote => "by the client",
            _ => "by the proxy",
        }
    );
    let (received, sent) = (relay.received, relay.sent);
    drop(relay);
    chain.closed(peer);
    if let Some(log) = access_log {
        // Envoy's `tcp_proxy` logs the connection's bytes each way as `BYTES_RECEIVED` and
        // `BYTES_SENT`, which an HTTP stream's entry reads from its bodies.
        let info = chain.info();
        info.request_body_received(received as usize);
        info.response_body_sent(sent as usize);
        log.record(info, overload);
    }
}

/// One side of the relay: its stream and whether it has ended each way. The relay's one task
/// reads in a `select!` and writes after it, so the stream is never split (a split stream
/// takes a lock for every read and write).
struct Side<T> {
    io: T,
    /// Its peer ended its side (read 0 bytes).
    ended: bool,
    /// We shut our sending side down.
    shut: bool,
    buffer: Vec<u8>,
}

impl<T: AsyncRead + AsyncWrite + Unpin> Side<T> {
    fn new(io: T) -> Side<T> {
        Side {
            io,
            ended: false,
            shut: false,
            buffer: vec![0; READ_CHUNK],
        }
    }

    /// Writes `bytes`, then shuts the sending side down when `end` (once).
    async fn send(&mut self, bytes: &[u8], end: bool) -> std::io::Result<()> {
        if !bytes.is_empty() {
            self.io.write_all(bytes).await?;
        }
        if end && !self.shut {
            self.shut = true;
            self.io.shutdown().await?;
        }
        Ok(())
    }
}

/// Reads from a side unless it ended or may not be read now.
async fn read_from<T: AsyncRead + AsyncWrite + Unpin>(
    side: Option<&mut Side<T>>,
    allowed: bool,
) -> std::io::Result<usize> {
    match side {
        Some(side) if allowed && !side.ended => side.io.read(&mut side.buffer).await,
        _ => std::future::pending().await,
    }
}

/// Why the proxy closed a connection, where a counter says so.
#[derive(Clone, Copy)]
enum Cause {
    /// No upstream connection could be made.
    ConnectFailure,
    /// Nothing moved for `idle_timeout_ms`.
    Idle,
}

/// What stopped the relay.
enum Ended {
    /// Both sides ended their streams (`downstream_shut_first` tells who ended it last).
    Both,
    /// The proxy closed it: a filter, the idle timeout, a failed upstream, a VM failing closed.
    Closed,
    /// The client's side failed (reset).
    ClientFailed,
}

struct Relay<'a, S> {
    chain: &'a ConnectionChain,
    tcp: &'a TcpProxyConfig,
    upstreams: &'a Upstreams,
    hold_limit: usize,
    downstream: Side<S>,
    upstream: Option<Side<Upstream>>,
    /// The upstream ended its stream and the filters passed that on.
    upstream_ended: bool,
    /// We shut the client's receiving side before it ended its own.
    downstream_shut_first: bool,
    /// Bytes read from the client.
    received: u64,
    /// Bytes written to the client.
    sent: u64,
    /// Why the proxy closed it, when a counter tells.
    ended_by: Option<Cause>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Relay<'_, S> {
    /// Relays until the connection ends; who ended it, for the filters' close callback.
    async fn run(&mut self) -> PeerType {
        let started = self.chain.start();
        let ended = match self.on_downstream_verdict(started).await {
            Some(ended) => ended,
            None => self.relay().await,
        };
        match ended {
            // Envoy: the side that completes the close reports it.
            Ended::Both if self.downstream_shut_first => PeerType::Remote,
            Ended::Both | Ended::Closed => PeerType::Local,
            Ended::ClientFailed => PeerType::Remote,
        }
    }

    async fn relay(&mut self) -> Ended {
        let idle =
            (self.tcp.idle_timeout_ms > 0).then(|| Duration::from_millis(self.tcp.idle_timeout_ms));
        let mut last_activity = Instant::now();
        loop {
            if self.downstream.ended && self.upstream_ended {
                return Ended::Both;
            }
            let read_client = self.chain.held_bytes(Flow::Downstream) < self.hold_limit;
            let read_upstream = self.chain.held_bytes(Flow::Upstream) < self.hold_limit;
            let idle_deadline = idle.map(|idle| last_activity + idle);
            let step = tokio::select! {
                signal = self.chain.signalled() => match signal {
                    Signal::Resume => self.on_downstream_verdict(self.chain.resume_downstream()).await,
                    Signal::Close => Some(Ended::Closed),
                },
                read = read_from(Some(&mut self.downstream), read_client) => {
                    last_activity = Instant::now();
                    match read {
                        Ok(0) => {
                            self.downstream.ended = true;
                            let verdict = self.chain.from_downstream(&[], true);
                            self.on_downstream_verdict(verdict).await
                        }
                        Ok(n) => {
                            self.received += n as u64;
                            let verdict = self.chain.from_downstream(&self.downstream.buffer[..n], false);
                            self.on_downstream_verdict(verdict).await
                        }
                        Err(e) => {
                            log::debug!("client connection failed: {e}");
                            Some(Ended::ClientFailed)
                        }
                    }
                },
                read = read_from(self.upstream.as_mut(), read_upstream) => {
                    last_activity = Instant::now();
                    match read {
                        Ok(n) => {
                            let upstream = self.upstream.as_mut().expect("read from it");
                            upstream.ended = n == 0;
                            let verdict = self.chain.from_upstream(&upstream.buffer[..n], n == 0);
                            self.on_upstream_verdict(verdict, n == 0).await
                        }
                        Err(e) => {
                            log::debug!("upstream connection failed: {e}");
                            Some(Ended::Closed)
                        }
                    }
                },
                () = sleep_until(idle_deadline) => {
                    log::debug!("TCP connection idle for {:?}: closing", idle.unwrap_or_default());
                    self.ended_by = Some(Cause::Idle);
                    Some(Ended::Closed)
                },
            };
            if let Some(ended) = step {
                return ended;
            }
        }
    }

    /// Sends what the read filters passed on to the upstream, connecting it first if needed.
    async fn on_downstream_verdict(&mut self, verdict: Verdict) -> Option<Ended> {
        let bytes = match verdict {
            Verdict::Pass(bytes) => bytes,
            Verdict::Held => return None,
            Verdict::Close => return Some(Ended::Closed),
        };
        if self.upstream.is_none() {
            match self.connect().await {
                Some(upstream) => self.upstream = Some(upstream),
                None => {
                    self.ended_by = Some(Cause::ConnectFailure);
                    return Some(Ended::Closed);
                }
            }
        }
        let end = self.downstream.ended;
        let upstream = self.upstream.as_mut().expect("connected above");
        match upstream.send(&bytes, end).await {
            Ok(()) => None,
            Err(e) => {
                log::debug!("writing to the upstream failed: {e}");
                Some(Ended::Closed)
            }
        }
    }

    /// Sends what the write filters passed on to the client.
    async fn on_upstream_verdict(&mut self, verdict: Verdict, end: bool) -> Option<Ended> {
        let bytes = match verdict {
            Verdict::Pass(bytes) => bytes,
            Verdict::Held => return None,
            Verdict::Close => return Some(Ended::Closed),
        };
        if end {
            self.upstream_ended = true;
            self.downstream_shut_first = !self.downstream.ended;
        }
        match self.downstream.send(&bytes, end).await {
            Ok(()) => {
                self.sent += bytes.len() as u64;
                None
            }
            Err(e) => {
                log::debug!("writing to the client failed: {e}");
                Some(Ended::ClientFailed)
            }
        }
    }

    /// Connects to the next endpoint of the listener's cluster, or of the one a filter chose
    /// (`envoy.tcp_proxy.cluster`); `None` (logged) when it cannot.
    async fn connect(&mut self) -> Option<Side<Upstream>> {
        let chosen = self.chain.info().tcp_proxy_cluster();
        let name = chosen.as_deref().unwrap_or(&self.tcp.cluster);
        let info = self.chain.info();
        let Some(cluster) = self.upstreams.get(name) else {
            log::debug!("a filter chose cluster {name:?}, which does not exist: closing");
            info.connection_failed(response_flags::NO_CLUSTER_FOUND);
            return None;
        };
        let endpoint: SocketAddr = match cluster.pick(&mut Default::default()) {
            Ok(endpoint) => endpoint,
            Err(e) => {
                log::debug!("cluster {name:?}: no endpoint: {e:?}");
                info.connection_failed(response_flags::NO_HEALTHY_UPSTREAM);
                return None;
            }
        };
        info.upstream_picked(endpoint);
        match cluster.connect(endpoint).await {
            Ok(connection) => Some(Side::new(TokioIo::new(connection))),
            Err(e) => {
                log::debug!("cluster {name:?}: connecting to {endpoint} failed: {e}");
                // Envoy's `tcp_proxy` makes one attempt by default, and says it ran out.
                info.connection_failed(
                    response_flags::UPSTREAM_CONNECTION_FAILURE
                        | response_flags::UPSTREAM_RETRY_LIMIT_EXCEEDED,
                );
                None
            }
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
