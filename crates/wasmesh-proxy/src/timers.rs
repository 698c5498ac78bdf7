//! The clocks of one proxied stream: the route timeout ([`route`]) and the stream idle timeout
//! ([`idle`]), shared by the exchange and the body pumps, which wait on whichever fires first.

pub mod idle;
pub mod route;

use std::time::Duration;

pub use idle::StreamIdle;
pub use route::RouteTimer;

/// Which clock ended a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// The route timeout (Envoy: `504 upstream request timeout` before the response head).
    Route,
    /// The stream idle timeout (Envoy, before the response head: `504 stream timeout` once the
    /// request is complete, `408` while its body is still owed).
    Idle,
}

/// Both clocks of a stream.
#[derive(Debug)]
pub struct StreamTimers {
    /// The route timeout.
    pub route: RouteTimer,
    /// The stream idle timeout.
    pub idle: StreamIdle,
}

impl StreamTimers {
    /// Timers for a stream starting now.
    pub fn new(route: Duration, idle: Duration) -> Self {
        Self {
            route: RouteTimer::new(route),
            idle: StreamIdle::new(idle),
        }
    }

    /// Resolves when either clock runs out.
    pub async fn expired(&self) -> Expiry {
        tokio::select! {
            () = self.route.expired() => Expiry::Route,
            () = self.idle.expired() => Expiry::Idle,
        }
    }
}

/// Runs a timer test on a current-thread runtime with time enabled.
#[cfg(test)]
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a test runtime")
        .block_on(future)
}
