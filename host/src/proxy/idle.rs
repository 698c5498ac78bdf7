//! The two clocks of a downstream connection, kept by an IO wrapper that sees every byte:
//!
//! - idle: when bytes last moved; a watchdog asks hyper to close the connection gracefully
//!   (in-flight requests finish) once it has been quiet for `idle_timeout_ms`;
//! - request head: when the first byte of a request head arrived; a watchdog closes a
//!   connection whose head has not arrived whole `request_timeout_ms` later. On h2 the head is
//!   a header block, followed by [`super::h2_frames`]: one that a client drips (on a connection
//!   that may be serving other streams) is cut, and so is any frame dripped while no request is
//!   in flight; a connection idling with PINGs between requests is not.
//!
//! hyper's own header timer starts whenever it waits for a head, so it also ran between the
//! requests of a keep-alive connection and closed every idle one after `request_timeout_ms`
//! (10 s) instead of `idle_timeout_ms` (60 s). Here the head clock starts with the head's
//! first byte, and only while no request of the connection is in flight.

use std::cell::{Cell, RefCell};
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;

use super::h2_frames::{FrameClock, Protocol};

/// The most SETTINGS and PING frames a client may send in a second. Each costs the server a
/// written answer, and no client needs more than a few (gRPC keepalive pings are seconds
/// apart); hyper answers a flood at the pace the client reads, so it holds no memory, but the
/// connection is work for nothing: past this it is closed, as Envoy closes one whose answers
/// queue up (`max_outbound_control_frames`, 1 000).
pub const MAX_CONTROL_FRAMES_PER_SECOND: u64 = 1000;

/// What the watchdogs read about one connection.
#[derive(Debug)]
pub struct Activity {
    /// When bytes last moved either way.
    last: Cell<Instant>,
    /// Requests whose response is not done yet (shared with guards inside response bodies,
    /// which must be `Send`).
    in_flight: Arc<AtomicUsize>,
    /// HTTP/1: when the first byte of a head arrived while no request was in flight.
    head_started: Cell<Option<Instant>>,
    /// The incoming bytes, frame by frame once they turn out to be h2.
    frames: RefCell<FrameClock>,
    /// The h2 control frames counted in the current one-second window: (window start, count
    /// at its start).
    control_window: Cell<(Instant, u64)>,
    /// Told once the client sends control frames faster than [`MAX_CONTROL_FRAMES_PER_SECOND`].
    flooding: tokio::sync::Notify,
    /// Requests started on the connection so far.
    started: Cell<u64>,
}

impl Activity {
    fn new() -> Rc<Activity> {
        Rc::new(Activity {
            last: Cell::new(Instant::now()),
            in_flight: Arc::new(AtomicUsize::new(0)),
            head_started: Cell::new(None),
            frames: RefCell::default(),
            control_window: Cell::new((Instant::now(), 0)),
            flooding: tokio::sync::Notify::new(),
            started: Cell::new(0),
        })
    }

    /// A request's head has arrived: its clock stops, and the request counts as in flight until
    /// the returned guard drops (with the response body, once it is sent).
    pub fn request_started(&self) -> InFlight {
        self.head_started.set(None);
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

    fn read(&self, bytes: &[u8]) {
        let now = Instant::now();
        self.last.set(now);
        if self.idle_between_requests() && self.head_started.get().is_none() {
            self.head_started.set(Some(now));
        }
        let mut frames = self.frames.borrow_mut();
        frames.feed(bytes, now);
        let (start, at_start) = self.control_window.get();
        let sent = frames.control_frames() - at_start;
        if now >= start + Duration::from_secs(1) {
            self.control_window.set((now, frames.control_frames()));
        } else if sent > MAX_CONTROL_FRAMES_PER_SECOND {
            self.flooding.notify_one();
        }
    }

    /// Resolves once the client has sent SETTINGS and PING frames faster than
    /// [`MAX_CONTROL_FRAMES_PER_SECOND`].
    pub async fn control_flood(&self) {
        self.flooding.notified().await
    }

    /// Since when a request head has been arriving without being complete, if one is.
    fn head_arriving_since(&self) -> Option<Instant> {
        let frames = self.frames.borrow();
        match frames.protocol() {
            Protocol::H2 => frames.header_block_since().or_else(|| {
                frames
                    .partial_frame_since()
                    .filter(|_| self.idle_between_requests())
            }),
            Protocol::Http1 | Protocol::Unknown => self
                .head_started
                .get()
                .filter(|_| self.idle_between_requests()),
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
            self.activity.read(&buf.filled()[before..]);
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

/// Resolves once a request head has been arriving for `limit` without being complete.
pub async fn head_too_slow(activity: Rc<Activity>, limit: Duration) {
    loop {
        match activity.head_arriving_since() {
            Some(started) if Instant::now() >= started + limit => return,
            Some(started) => tokio::time::sleep_until(started + limit).await,
            // Looked at again within `limit` of any head starting.
            None => tokio::time::sleep(limit).await,
        }
    }
}
