//! One downstream connection: accepting it (within the listener's `max_connections`), its TLS
//! handshake on a TLS listener, serving HTTP/1.1 and h2 (h2c on a plain port) with the
//! listener's codec limits, and the watchdogs that
//! end it (idle, a head too slow to arrive, a control-frame flood, a response cut at its
//! timeout). Each request it carries is handled by [`super::request`]; a TCP listener's
//! connection is relayed by [`super::tcp_proxy`] instead.

use std::future::Future;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{watch, Notify};

use super::body;
use super::downstream::Downstream;
use super::idle::{head_too_slow, quiet_for, IdleIo};
use super::polled_when_woken::PolledWhenWoken;
use super::request::handle;
use super::tcp_proxy::serve_tcp;
use super::tls::HandshakeFailure;
use super::worker_view::WorkerView;
use crate::overload::ConnectionSlot;
use crate::spec::ListenerConfig;

/// Runs `!Send` futures on the worker's local task set (hyper's h2 needs an executor).
#[derive(Clone, Copy)]
pub struct LocalExec;

impl<F> hyper::rt::Executor<F> for LocalExec
where
    F: Future + 'static,
{
    fn execute(&self, fut: F) {
        tokio::task::spawn_local(fut);
    }
}

/// Accepts connections for one listener on this worker until the worker stops or `stop` turns
/// true (a reload removed or moved the listener); then its connections drain.
pub async fn accept_loop(
    listener: tokio::net::TcpListener,
    worker: Rc<dyn WorkerView>,
    name: Rc<str>,
    mut stop: watch::Receiver<bool>,
) {
    let open = worker.overload().listener(&name);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.wait_for(|stopped| *stopped) => break,
        };
        match accepted {
            Ok((socket, peer)) => {
                let max = worker
                    .listener(&name)
                    .and_then(|l| l.config.max_connections);
                let Some(slot) = ConnectionSlot::take(&open, max) else {
                    // As Envoy does: the connection is closed at once, before any byte is read.
                    worker.overload().listener_overflow.inc(&name);
                    log::debug!("listener {name}: max_connections open: closing {peer}");
                    continue;
                };
                let _ = socket.set_nodelay(true);
                tokio::task::spawn_local(open_connection(
                    socket,
                    peer,
                    worker.clone(),
                    name.clone(),
                    stop.clone(),
                    slot,
                ));
            }
            Err(e) => crate::accept::after_accept_error(&format!("listener {name}"), &e).await,
        }
    }
    log::debug!("listener {name}: no longer accepting on this worker");
}

/// Serves an accepted connection: plain, or after its TLS handshake on a TLS listener. A
/// handshake that fails or outlasts its timeout closes the connection and is counted by reason.
async fn open_connection(
    socket: tokio::net::TcpStream,
    peer: SocketAddr,
    worker: Rc<dyn WorkerView>,
    name: Rc<str>,
    stop: watch::Receiver<bool>,
    counted: ConnectionSlot,
) {
    let local = socket.local_addr().unwrap_or(peer);
    let Some(listener) = worker.listener(&name) else {
        return; // the listener went away with a reload
    };
    let tcp = listener.config.tcp_proxy.is_some();
    let Some(tls) = listener.tls.clone() else {
        let connection = Downstream::new(peer, local, None, counted);
        if tcp {
            return serve_tcp(socket, connection, worker, name).await;
        }
        return serve_connection(socket, connection, worker, name, stop).await;
    };
    drop(listener);
    let failed = |failure: &HandshakeFailure| {
        log::debug!("listener {name}: TLS handshake with {peer} failed: {failure}");
        worker.overload().tls_handshake_errors.inc(failure.reason());
    };
    if let Ok((stream, session)) = tls.handshake(socket, failed).await {
        worker.overload().tls_handshakes.inc(&name);
        let connection = Downstream::new(peer, local, Some(session), counted);
        if tcp {
            return serve_tcp(stream, connection, worker, name).await;
        }
        serve_connection(stream, connection, worker, name, stop).await
    }
}

async fn serve_connection<S>(
    io: S,
    downstream: Downstream,
    worker: Rc<dyn WorkerView>,
    name: Rc<str>,
    mut stop: watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let peer = downstream.peer();
    let Some(settings) = worker.listener(&name).map(|l| CodecSettings::of(&l.config)) else {
        return; // the listener went away with a reload
    };
    let listener_name = name.clone();
    let downstream = Rc::new(downstream);
    let for_streams = downstream.clone();
    // Notified when the connection has carried `max_requests_per_connection` requests.
    let spent = Rc::new(Notify::new());
    let spent_by_stream = spent.clone();
    let overload = worker.overload().clone();
    let (io, activity) = IdleIo::new(io);
    let requests = activity.clone();
    let max_requests = settings.max_requests;
    let service = service_fn(move |request: http::Request<Incoming>| {
        let worker = worker.clone();
        let name = name.clone();
        let downstream = for_streams.clone();
        // In flight until hyper drops the response body, once it is sent.
        let in_flight = requests.request_started();
        if max_requests.is_some_and(|max| requests.started() >= u64::from(max)) {
            spent_by_stream.notify_one();
        }
        async move {
            let response = handle(worker, &name, request, downstream).await?;
            Ok::<_, body::BoxError>(response.map(|b| body::guarded(b, in_flight)))
        }
    });
    let mut builder = auto::Builder::new(LocalExec);
    builder
        .http1()
        .timer(TokioTimer::new())
        // The head and idle clocks are the watchdogs' below (`request_timeout_ms`,
        // `idle_timeout_ms`). hyper's own header timer (30 s by default) also ran between the
        // requests of a keep-alive connection, closing it after 30 s of silence whatever
        // `idle_timeout_ms` said, and cost a timer per request.
        .header_read_timeout(None)
        .keep_alive(true)
        // A head that does not fit the read buffer, or has more fields, gets hyper's 431.
        .max_buf_size(settings.max_head_bytes)
        .max_headers(settings.max_headers);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(settings.max_head_bytes as u32)
        .max_concurrent_streams(settings.max_streams);
    let (idle_timeout, head_timeout) = (settings.idle_timeout, settings.request_timeout);
    let connection = builder.serve_connection_with_upgrades(TokioIo::new(io), service);
    tokio::pin!(connection);
    // Idle for too long, or its listener draining: finish what is in flight, then close
    // (HTTP/1.1 closes after the current response, h2 sends GOAWAY). A head too slow to
    // arrive, or a response that outlived its route timeout unread: close now. The watchdogs
    // are polled only when one of them wakes, not on every read and write of the codec.
    let watchdogs = PolledWhenWoken::new(async {
        tokio::select! {
            _ = quiet_for(activity.clone(), idle_timeout) => {
                Watchdog::Graceful(format!("idle for {idle_timeout:?}"))
            }
            _ = stop.wait_for(|stopped| *stopped) => {
                Watchdog::Graceful(format!("listener {listener_name} draining"))
            }
            () = spent.notified() => {
                Watchdog::Graceful("max_requests_per_connection reached".to_string())
            }
            () = activity.control_flood() => {
                log::debug!("connection from {peer}: SETTINGS/PING flood: closing");
                overload.protocol_errors.inc("control_frame_flood");
                Watchdog::Close
            }
            () = head_too_slow(activity.clone(), head_timeout) => {
                log::debug!("connection from {peer}: no whole request head within {head_timeout:?}: closing");
                Watchdog::Close
            }
            () = downstream.cut_requested() => {
                log::debug!("connection from {peer}: closed, a response outlived its route timeout");
                Watchdog::Close
            }
        }
    });
    let graceful = tokio::select! {
        biased;
        result = connection.as_mut() => Err(result),
        watchdog = watchdogs => match watchdog {
            Watchdog::Graceful(why) => Ok(why),
            Watchdog::Close => Err(Ok(())),
        },
    };
    let result = match graceful {
        Err(result) => result,
        Ok(why) => {
            log::debug!("connection from {peer}: {why}: closing once in-flight requests end");
            connection.as_mut().graceful_shutdown();
            tokio::select! {
                result = connection.as_mut() => result,
                () = downstream.cut_requested() => Ok(()),
            }
        }
    };
    if let Err(e) = result {
        log::debug!("connection from {peer} ended: {e}");
        if let Some(reason) = super::protocol_errors::reason(&*e) {
            overload.protocol_errors.inc(&reason);
        }
    }
}

/// What ended a connection's wait on its codec, other than the codec itself.
enum Watchdog {
    /// Finish the requests in flight, then close; why, for the log.
    Graceful(String),
    /// Close now.
    Close,
}

/// What a connection's codec takes from its listener's configuration.
struct CodecSettings {
    request_timeout: Duration,
    idle_timeout: Duration,
    /// `max_request_headers_kb` in bytes (at least hyper's smallest read buffer, 8 KiB).
    max_head_bytes: usize,
    max_headers: usize,
    max_requests: Option<u32>,
    max_streams: u32,
}

impl CodecSettings {
    fn of(config: &ListenerConfig) -> CodecSettings {
        CodecSettings {
            request_timeout: Duration::from_millis(config.request_timeout_ms),
            idle_timeout: Duration::from_millis(config.idle_timeout_ms),
            max_head_bytes: (config.max_request_headers_kb as usize * 1024).max(8192),
            max_headers: config.max_headers_count as usize,
            max_requests: config.max_requests_per_connection,
            max_streams: config.http2_protocol_options.max_concurrent_streams,
        }
    }
}
