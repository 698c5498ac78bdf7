//! Body plumbing: the boxed body type both sides use, and a channel-fed
//! body so filtered chunks stream on without buffering the whole body.

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Empty, Full};
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::sync::mpsc;

/// Errors inside bodies.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The body type of every request and response the proxy builds.
pub type ProxyBody = UnsyncBoxBody<Bytes, BoxError>;

/// An empty body.
pub fn empty() -> ProxyBody {
    Empty::<Bytes>::new().map_err(|e| match e {}).boxed_unsync()
}

/// A body of known bytes.
pub fn full(bytes: impl Into<Bytes>) -> ProxyBody {
    Full::new(bytes.into())
        .map_err(|e| match e {})
        .boxed_unsync()
}

/// Sender half of a [`ChannelBody`].
pub type BodySender = mpsc::Sender<Result<Frame<Bytes>, BoxError>>;

/// A body whose frames arrive over a bounded channel (backpressure: the
/// producer waits when the consumer is slow).
pub struct ChannelBody {
    rx: mpsc::Receiver<Result<Frame<Bytes>, BoxError>>,
}

/// The largest data frame a pump hands over: what one chunk of a body may hold in flight.
pub const MAX_FRAME: usize = 64 * 1024;

/// Frames a body's channel holds while the reader is slow. With frames of at most
/// [`MAX_FRAME`], a stream whose client stops reading holds at most this many of them here
/// (256 KiB): the channel once took 16 frames of up to 400 KiB each, and 100 clients that
/// never read held 960 MiB.
const QUEUED_FRAMES: usize = 4;

/// A connected sender and body.
pub fn channel() -> (BodySender, ChannelBody) {
    let (tx, rx) = mpsc::channel(QUEUED_FRAMES);
    (tx, ChannelBody { rx })
}

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.rx.poll_recv(cx)
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

impl ChannelBody {
    /// Boxes the body.
    pub fn boxed(self) -> ProxyBody {
        UnsyncBoxBody::new(self)
    }
}

/// `body` holding `guard` until it is dropped: hyper drops a response body once it has sent it
/// (or given up on it), which is when the guard's work is done.
pub fn guarded<G: Send + Unpin + 'static>(body: ProxyBody, guard: G) -> ProxyBody {
    UnsyncBoxBody::new(Guarded {
        inner: body,
        _guard: guard,
    })
}

struct Guarded<G> {
    inner: ProxyBody,
    _guard: G,
}

impl<G: Unpin> Body for Guarded<G> {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
