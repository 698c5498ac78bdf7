//! The two clocks of a downstream connection, kept by an IO wrapper that sees every byte:
//!
//! - idle: when bytes last moved; a watchdog asks hyper to close the connection gracefully
//!   (in-flight requests finish) once it has been quiet for `idle_timeout_ms`;
//! - request head: when the first byte of a request head arrived; a watchdog closes an
//!   HTTP/1 connection whose head has not arrived whole `request_timeout_ms` later.
//!
//! hyper's own header timer starts whenever it waits for a head, so it also ran between the
//! requests of a keep-alive connection and closed every idle one after `request_timeout_ms`
//! (10 s) instead of `idle_timeout_ms` (60 s). Here the head clock starts with the head's
//! first byte, and only while no request of the connection is in flight.

use std::cell::Cell;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;

/// What the watchdogs read about one connection.
#[derive(Debug)]
pub struct Activity {
    /// When bytes last moved either way.
    last: Cell<Instant>,
    /// Requests whose response is not done yet (shared with guards inside response bodies,
    /// which must be `Send`).
    in_flight: Arc<AtomicUsize>,
    /// When the first byte of a head arrived while no request was in flight.
    head_started: Cell<Option<Instant>>,
    /// The connection speaks h2: frames arrive between streams, so there is no head clock.
    multiplexed: Cell<bool>,
    /// Requests started on the connection so far.
    started: Cell<u64>,
}

impl Activity {
    fn new() -> Rc<Activity> {
        Rc::new(Activity {
            last: Cell::new(Instant::now()),
            in_flight: Arc::new(AtomicUsize::new(0)),
            head_started: Cell::new(None),
            multiplexed: Cell::new(false),
            started: Cell::new(0),
        })
    }

    /// A request's head has arrived: its clock stops, and the request counts as in flight until
    /// the returned guard drops (with the response body, once it is sent).
    pub fn request_started(&self, h2: bool) -> InFlight {
        self.head_started.set(None);
        self.multiplexed.set(self.multiplexed.get() || h2);
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.started.set(self.started.get() + 1);
        InFlight(self.in_flight.clone())
    }

    /// Requests started on the connection so far.
    pub fn started(&self) -> u64 {
        self.started.get()
    }

    fn idle_between_requests(&self) -> bool {
        self.in_flight.load(Ordering::Relaxed) == 0
    }

    fn read(&self) {
        let now = Instant::now();
        self.last.set(now);
        if self.idle_between_requests() && self.head_started.get().is_none() {
            self.head_started.set(Some(now));
        }
    }
}

/// A request in flight on its connection; see [`Activity::request_started`].
#[derive(Debug)]
pub struct InFlight(Arc<AtomicUsize>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Wraps a connection and feeds its [`Activity`].
pub struct IdleIo<T> {
    inner: T,
    activity: Rc<Activity>,
}

impl<T> IdleIo<T> {
    /// Wraps `inner`; the returned activity is shared with the watchdogs and the handler.
    pub fn new(inner: T) -> (IdleIo<T>, Rc<Activity>) {
        let activity = Activity::new();
        (
            IdleIo {
                inner,
                activity: activity.clone(),
            },
            activity,
        )
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for IdleIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.read();
        }
        result
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for IdleIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.last.set(Instant::now());
        }
        result
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Resolves once no bytes have moved for `limit`.
pub async fn quiet_for(activity: Rc<Activity>, limit: Duration) {
    loop {
        let deadline = activity.last.get() + limit;
        if Instant::now() >= deadline {
            return;
        }
        tokio::time::sleep_until(deadline).await;
    }
}

/// Resolves once an HTTP/1 request head has been arriving for `limit` without being complete.
pub async fn head_too_slow(activity: Rc<Activity>, limit: Duration) {
    loop {
        if activity.multiplexed.get() {
            return std::future::pending().await;
        }
        let waiting = activity
            .head_started
            .get()
            .filter(|_| activity.idle_between_requests());
        match waiting {
            Some(started) if Instant::now() >= started + limit => return,
            Some(started) => tokio::time::sleep_until(started + limit).await,
            // Looked at again within `limit` of any head starting.
            None => tokio::time::sleep(limit).await,
        }
    }
}
