//! A cluster's HTTP/1.1 connections on one worker, kept open between requests: hyper's
//! connection-level client (`hyper::client::conn::http1`) with a pool of our own.
//!
//! hyper-util's pooled client did the same job for about 12 % of a plain proxied request's
//! instructions (its pool behind a mutex, its key hashed twice with SipHash, a checkout future
//! and a task spawned per request to hand the connection back). A worker is one thread, so
//! this pool is a plain map of each endpoint's connections: every open connection that no
//! request is being sent on, the ones still streaming a response body included, and a request
//! takes the latest one hyper says is ready for another. What the pooled client did and this
//! keeps:
//! - a request a reused connection never took (it had closed meanwhile) is sent again on
//!   another; a fresh connection's failure is the request's;
//! - when no connection is ready, a new one is made, and a connection of the pool that becomes
//!   ready first is taken instead (at `max_connections` that is the only way in); the new one
//!   is then finished and kept;
//! - the `host` header from the URI when the request has none, and the request line in origin
//!   form (authority form for `CONNECT`);
//! - upgrades (the connection is driven `with_upgrades`), and each response carrying its
//!   connection's TLS session ([`UpstreamTls`]);
//! - connections idle for about a minute are closed, and at most [`MAX_PER_ENDPOINT`] are
//!   kept per endpoint.

use std::cell::{Cell, RefCell};
use std::future::{poll_fn, Future};
use std::net::SocketAddr;
use std::pin::pin;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::client::conn::http1::{Builder, SendRequest};
use rustc_hash::FxHashMap;
use tokio::sync::Notify;
use wasmesh_host::stream_info::TlsSession;

use super::super::body::{ProxyBody, MAX_FRAME};
use super::super::connector::{CountingConnector, UpstreamTls};
use super::SendError;

/// Connections kept per endpoint; one more is closed once its exchange is over.
pub const MAX_PER_ENDPOINT: usize = 1024;

/// How often idle connections are looked for; one unused for [`IDLE_TICKS`] of these (45 to
/// 60 s) is closed, as the pooled client closed them after 60 s.
const IDLE_TICK: Duration = Duration::from_secs(15);
const IDLE_TICKS: u64 = 4;

/// The pool; a clone shares it.
#[derive(Clone)]
pub struct Http1Pool {
    connector: CountingConnector,
    shared: Rc<Shared>,
}

struct Shared {
    /// Each endpoint's connections that no request is being sent on.
    by_endpoint: RefCell<FxHashMap<SocketAddr, Vec<Pooled>>>,
    /// Requests waiting for a connection to become ready.
    waiting: Cell<usize>,
    /// A connection's task ran while some waited: one may be ready now.
    polled: Notify,
    /// Idle ticks so far; the reaper runs once the first connection is kept.
    tick: Cell<u64>,
    reaping: Cell<bool>,
}

/// An open connection.
struct Pooled {
    sender: SendRequest<ProxyBody>,
    tls: Option<Arc<TlsSession>>,
    /// The tick it was last handed back at.
    used: u64,
}

impl Http1Pool {
    /// A pool whose connections come from `connector`.
    pub fn new(connector: CountingConnector) -> Http1Pool {
        Http1Pool {
            connector,
            shared: Rc::new(Shared {
                by_endpoint: RefCell::default(),
                waiting: Cell::new(0),
                polled: Notify::new(),
                tick: Cell::new(0),
                reaping: Cell::new(false),
            }),
        }
    }

    /// Sends `request` (its URI absolute, to `endpoint`) on a connection to `endpoint`.
    pub async fn send(
        &self,
        endpoint: SocketAddr,
        mut request: http::Request<ProxyBody>,
    ) -> Result<http::Response<Incoming>, SendError> {
        to_http1_form(&mut request);
        loop {
            let (mut pooled, reused) = self.checkout(endpoint).await?;
            match pooled.sender.try_send_request(request).await {
                Ok(mut response) => {
                    if let Some(tls) = &pooled.tls {
                        response.extensions_mut().insert(UpstreamTls(tls.clone()));
                    }
                    self.shared.keep(endpoint, pooled);
                    return Ok(response);
                }
                Err(mut failed) => match failed.take_message() {
                    Some(unsent) if reused => request = unsent,
                    _ => return Err(SendError::Exchange(failed.into_error().into())),
                },
            }
        }
    }

    /// A connection to `endpoint`, and whether it was used before: a ready one of the pool, or
    /// a new one unless one of the pool becomes ready first.
    async fn checkout(&self, endpoint: SocketAddr) -> Result<(Pooled, bool), SendError> {
        if let Some(pooled) = self.shared.take_ready(endpoint) {
            return Ok((pooled, true));
        }
        let mut connecting = Box::pin(self.clone().connect(endpoint));
        let _waiting = Waiting::new(&self.shared);
        loop {
            let mut polled = pin!(self.shared.polled.notified());
            polled.as_mut().enable();
            if let Some(pooled) = self.shared.take_ready(endpoint) {
                // The new connection is finished in the background and kept, as it is likely
                // to be wanted soon (the pooled client did the same).
                let pool = self.clone();
                tokio::task::spawn_local(async move {
                    if let Ok(fresh) = connecting.await {
                        pool.shared.keep(endpoint, fresh);
                    }
                });
                return Ok((pooled, true));
            }
            tokio::select! {
                biased;
                fresh = &mut connecting => return Ok((fresh?, false)),
                () = polled => {}
            }
        }
    }

    /// A new connection to `endpoint`, its task driving it spawned on this worker.
    async fn connect(self, endpoint: SocketAddr) -> Result<Pooled, SendError> {
        let io = (self.connector.connect(endpoint).await).map_err(SendError::connect)?;
        let tls = io.tls_session();
        let (sender, connection) = Builder::new()
            // hyper's read buffer (400 KiB by default) bounds each body frame and a response
            // head: 64 KiB keeps a frame within the pumps' frame size, and a head as large as
            // Envoy's upstream default (60 KiB) still fits.
            .max_buf_size(MAX_FRAME)
            .handshake(io)
            .await
            .map_err(|e| SendError::Connect(e.into()))?;
        let shared = Rc::downgrade(&self.shared);
        tokio::task::spawn_local(async move {
            let mut connection = pin!(connection.with_upgrades());
            // After each turn of the connection, a request waiting for one may find it ready.
            let ended = poll_fn(|cx| {
                let turn = connection.as_mut().poll(cx);
                if let Some(shared) = shared.upgrade().filter(|s| s.waiting.get() > 0) {
                    shared.polled.notify_waiters();
                }
                turn
            })
            .await;
            if let Err(e) = ended {
                log::debug!("upstream connection ended: {e}");
            }
        });
        self.shared.start_reaper();
        Ok(Pooled {
            sender,
            tls,
            used: 0,
        })
    }
}

impl Shared {
    /// The latest handed-back connection to `endpoint` that is ready for a request; closed
    /// ones met on the way are dropped.
    fn take_ready(&self, endpoint: SocketAddr) -> Option<Pooled> {
        let mut by_endpoint = self.by_endpoint.borrow_mut();
        let list = by_endpoint.get_mut(&endpoint)?;
        let mut i = list.len();
        while i > 0 {
            i -= 1;
            if list[i].sender.is_ready() {
                return Some(list.swap_remove(i));
            }
            if list[i].sender.is_closed() {
                list.swap_remove(i);
            }
        }
        None
    }

    /// Hands `pooled` back (still busy with its response, or not); past the cap it is dropped,
    /// which closes it once its exchange is over.
    fn keep(&self, endpoint: SocketAddr, mut pooled: Pooled) {
        let mut by_endpoint = self.by_endpoint.borrow_mut();
        let list = by_endpoint.entry(endpoint).or_default();
        if list.len() < MAX_PER_ENDPOINT {
            pooled.used = self.tick.get();
            list.push(pooled);
        }
    }

    /// Starts closing idle connections, once per pool; the task ends with the pool.
    fn start_reaper(self: &Rc<Self>) {
        if self.reaping.replace(true) {
            return;
        }
        let shared = Rc::downgrade(self);
        tokio::task::spawn_local(reap(shared));
    }

    /// Drops the connections unused for [`IDLE_TICKS`] and not busy, the closed ones, and
    /// the endpoints left with none.
    fn reap_idle(&self) {
        let tick = self.tick.get() + 1;
        self.tick.set(tick);
        self.by_endpoint.borrow_mut().retain(|_, list| {
            let done = |p: &Pooled| {
                p.sender.is_closed() || (p.sender.is_ready() && tick - p.used >= IDLE_TICKS)
            };
            list.retain(|p| !done(p));
            !list.is_empty()
        });
    }
}

async fn reap(shared: Weak<Shared>) {
    loop {
        tokio::time::sleep(IDLE_TICK).await;
        match shared.upgrade() {
            Some(shared) => shared.reap_idle(),
            None => return,
        }
    }
}

/// Counts a request among those waiting for a connection while it lives.
struct Waiting<'a>(&'a Shared);

impl<'a> Waiting<'a> {
    fn new(shared: &'a Shared) -> Waiting<'a> {
        shared.waiting.set(shared.waiting.get() + 1);
        Waiting(shared)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.waiting.set(self.0.waiting.get() - 1);
    }
}

/// The request line as HTTP/1.1 sends it to an origin server (`/path?query`; `host:port` for
/// `CONNECT`), and a `host` header from the URI when the request has none.
fn to_http1_form(request: &mut http::Request<ProxyBody>) {
    let uri = std::mem::take(request.uri_mut());
    let Some(authority) = uri.authority() else {
        *request.uri_mut() = uri;
        return;
    };
    if !request.headers().contains_key(http::header::HOST) {
        let https = uri.scheme() == Some(&http::uri::Scheme::HTTPS);
        let default_port = if https { 443 } else { 80 };
        let host = match authority.port_u16() {
            Some(port) if port != default_port => authority.as_str(),
            _ => authority.host(),
        };
        if let Ok(value) = http::HeaderValue::from_str(host) {
            request.headers_mut().insert(http::header::HOST, value);
        }
    }
    let mut parts = http::uri::Parts::default();
    if request.method() == http::Method::CONNECT {
        parts.authority = Some(authority.clone());
    } else {
        parts.path_and_query = uri.path_and_query().cloned();
    }
    *request.uri_mut() = http::Uri::from_parts(parts).unwrap_or(uri);
}

#[cfg(test)]
mod tests;
