//! A route's timeout as Envoy has it: started when the request is complete (a long upload is
//! not cut by it) and covering the whole response, body included; 0 turns it off, as in Envoy
//! (the stream idle timeout still bounds a stalled stream).
//!
//! Stopping at the response head let a client that asks for a large body and never reads hold
//! the proxy's buffers and an upstream connection for as long as it liked. When the timer
//! fires, the response pump stops reading the upstream and the stream is ended; if the client
//! is not reading (so not even an error can reach it), its connection is closed.

use std::cell::Cell;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// One stream's route timer.
#[derive(Debug)]
pub struct RouteTimer {
    timeout: Duration,
    /// When the request was complete; the timer runs from then.
    complete: Cell<Option<Instant>>,
    /// Woken when `complete` is set.
    completed: Notify,
}

impl RouteTimer {
    /// A timer for `timeout` that has not started (the request is still arriving).
    pub fn new(timeout: Duration) -> Self {
        Self {
            timeout,
            complete: Cell::new(None),
            completed: Notify::new(),
        }
    }

    /// The request is complete: the timer starts (once; later calls change nothing).
    pub fn request_complete(&self) {
        if self.complete.get().is_none() {
            self.complete.set(Some(Instant::now()));
            self.completed.notify_waiters();
        }
    }

    /// Whether the request is complete (the whole body arrived).
    pub fn request_is_complete(&self) -> bool {
        self.complete.get().is_some()
    }

    /// Whether it is off (a timeout of 0).
    pub fn is_off(&self) -> bool {
        self.timeout.is_zero()
    }

    /// When it runs out: `None` while the request is arriving, and always when it is off.
    pub fn deadline(&self) -> Option<Instant> {
        if self.is_off() {
            return None;
        }
        self.complete.get().map(|complete| complete + self.timeout)
    }

    /// Resolves once the request is complete (at once if it is).
    pub async fn started(&self) {
        loop {
            // Made before the look, so a completion between the two is not missed.
            let notified = self.completed.notified();
            if self.request_is_complete() {
                return;
            }
            notified.await;
        }
    }
}

#[cfg(test)]
mod tests;
