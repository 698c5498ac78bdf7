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

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
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

/// What the watchdogs read about one connection. `Send`, because hyper moves the connection's
/// IO (with this wrapper) into the upgraded stream of a WebSocket; only the worker that owns the
/// connection touches it, so its lock is never contended.
#[derive(Debug)]
pub struct Activity {
    clocks: Mutex<Clocks>,
    /// Requests whose response is not done yet (shared with guards inside response bodies).
    in_flight: Arc<AtomicUsize>,
    /// Told once the client sends control frames faster than [`MAX_CONTROL_FRAMES_PER_SECOND`].
    flooding: tokio::sync::Notify,
    /// Requests started on the connection so far.
    started: AtomicU64,
}

#[derive(Debug)]
struct Clocks {
    /// When bytes last moved either way.
    last: Instant,
    /// HTTP/1: when the first byte of a head arrived while no request was in flight.
    head_started: Option<Instant>,
    /// The incoming bytes, frame by frame once they turn out to be h2.
    frames: FrameClock,
    /// The h2 control frames counted in the current one-second window: (window start, count
    /// at its start).
    control_window: (Instant, u64),
}

impl Activity {
    fn new() -> Arc<Activity> {
        let now = Instant::now();
        Arc::new(Activity {
            clocks: Mutex::new(Clocks {
                last: now,
                head_started: None,
                frames: FrameClock::default(),
                control_window: (now, 0),
            }),
            in_flight: Arc::new(AtomicUsize::new(0)),
            flooding: tokio::sync::Notify::new(),
            started: AtomicU64::new(0),
        })
    }

    fn clocks(&self) -> std::sync::MutexGuard<'_, Clocks> {
        self.clocks.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A request's head has arrived: its clock stops, and the request counts as in flight until
    /// the returned guard drops (with the response body, once it is sent).
    pub fn request_started(&self) -> InFlight {
        self.clocks().head_started = None;
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.started.fetch_add(1, Ordering::Relaxed);
        InFlight(self.in_flight.clone())
    }

    /// Requests started on the connection so far.
    pub fn started(&self) -> u64 {
        self.started.load(Ordering::Relaxed)
    }

    fn idle_between_requests(&self) -> bool {
        self.in_flight.load(Ordering::Relaxed) == 0
    }

    fn wrote(&self) {
        self.clocks().last = Instant::now();
    }

    fn read(&self, bytes: &[u8]) {
        let now = Instant::now();
        let idle = self.idle_between_requests();
        let mut clocks = self.clocks();
        clocks.last = now;
        if idle && clocks.head_started.is_none() {
            clocks.head_started = Some(now);
        }
        clocks.frames.feed(bytes, now);
        let (start, at_start) = clocks.control_window;
        let total = clocks.frames.control_frames();
        if now >= start + Duration::from_secs(1) {
            clocks.control_window = (now, total);
        } else if total - at_start > MAX_CONTROL_FRAMES_PER_SECOND {
            self.flooding.notify_one();
        }
    }

    /// Resolves once the client has sent SETTINGS and PING frames faster than
    /// [`MAX_CONTROL_FRAMES_PER_SECOND`].
    pub async fn control_flood(&self) {
        self.flooding.notified().await
    }

    /// When bytes last moved either way.
    fn last(&self) -> Instant {
        self.clocks().last
    }

    /// Since when a request head has been arriving without being complete, if one is.
    fn head_arriving_since(&self) -> Option<Instant> {
        let idle = self.idle_between_requests();
        let clocks = self.clocks();
        let frames = &clocks.frames;
        match frames.protocol() {
            Protocol::H2 => frames
                .header_block_since()
                .or_else(|| frames.partial_frame_since().filter(|_| idle)),
            Protocol::Http1 | Protocol::Unknown => clocks.head_started.filter(|_| idle),
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
    activity: Arc<Activity>,
}

impl<T> IdleIo<T> {
    /// Wraps `inner`; the returned activity is shared with the watchdogs and the handler.
    pub fn new(inner: T) -> (IdleIo<T>, Arc<Activity>) {
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
            self.activity.wrote();
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
pub async fn quiet_for(activity: Arc<Activity>, limit: Duration) {
    loop {
        let deadline = activity.last() + limit;
        if Instant::now() >= deadline {
            return;
        }
        tokio::time::sleep_until(deadline).await;
    }
}

/// Resolves once a request head has been arriving for `limit` without being complete.
pub async fn head_too_slow(activity: Arc<Activity>, limit: Duration) {
    loop {
        match activity.head_arriving_since() {
            Some(started) if Instant::now() >= started + limit => return,
            Some(started) => tokio::time::sleep_until(started + limit).await,
            // Looked at again within `limit` of any head starting.
            None => tokio::time::sleep(limit).await,
        }
    }
}
