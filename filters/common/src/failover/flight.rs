//! One stream's retry state, kept by the worker's [`crate::failover::retry::Retries`] (not by
//! the stream context) so the root's tick can act on it: send a retry whose backoff ended, or
//! answer a request whose deadline passed.

use std::net::SocketAddr;

use crate::failover::replay::Replay;
use crate::failover::Outcome;

/// A failed answer kept while a retry backs off or is in flight, to give the client if no
/// retry does better.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// Status to send.
    pub status: u32,
    /// Headers (the call's, pseudo and framing headers dropped when sent).
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

/// A retry sent and not answered yet.
#[derive(Debug, Clone, Copy)]
pub struct Call {
    /// The endpoint it went to.
    pub target: SocketAddr,
    /// When it was sent (host clock, ms), to tell a per-try timeout from another failure.
    pub sent_ms: u64,
}

/// One stream's state.
#[derive(Debug, Default)]
pub struct Flight {
    /// What a retry would replay.
    pub replay: Replay,
    /// Endpoints tried so far, in order.
    pub tried: Vec<SocketAddr>,
    /// The endpoint chosen for the next retry and the outcome that caused it, while it
    /// waits out its backoff.
    pub next: Option<(SocketAddr, Outcome)>,
    /// The retry in flight.
    pub call: Option<Call>,
    /// The last retry's failed answer (`None`: the original response is paused instead).
    pub last: Option<Answer>,
    /// The client has been answered by this filter (a retry's answer, the paused response
    /// let through, or a timeout). A response going through untouched removes the flight.
    pub answered: bool,
}

impl Flight {
    /// Retries sent so far.
    pub fn retries(&self) -> u32 {
        u32::try_from(self.tried.len().saturating_sub(1)).unwrap_or(u32::MAX)
    }
}
