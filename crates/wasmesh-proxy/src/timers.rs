//! The clocks of one proxied stream: the route timeout ([`route`]) and the stream idle timeout
//! ([`idle`]), shared by the exchange and the body pumps, which wait on whichever fires first.

pub mod idle;
pub mod route;

use std::time::Duration;

use tokio::time::Instant;

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

    /// Resolves when either clock runs out (the route timeout first when both have). One timer
    /// waits for whichever deadline comes first, not one per clock: a proxied request sets this
    /// up while it waits for its upstream, and each timer is an entry in the worker's timer
    /// wheel to add and remove.
    pub async fn expired(&self) -> Expiry {
        loop {
            let now = Instant::now();
            let route = self.route.deadline();
            if route.is_some_and(|at| now >= at) {
                return Expiry::Route;
            }
            let idle = self.idle.deadline();
            if idle.is_some_and(|at| now >= at) {
                return Expiry::Idle;
            }
            let next = match (route, idle) {
                (Some(route), Some(idle)) => Some(route.min(idle)),
                (route, idle) => route.or(idle),
            };
            // The route clock has yet to start: its start moves the next deadline.
            let starting = !self.route.is_off() && !self.route.request_is_complete();
            match (next, starting) {
                (Some(at), false) => tokio::time::sleep_until(at).await,
                (Some(at), true) => {
                    tokio::select! {
                        () = tokio::time::sleep_until(at) => {}
                        () = self.route.started() => {}
                    }
                }
                (None, true) => self.route.started().await,
                (None, false) => std::future::pending().await,
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// How long `timers` took to expire, and which clock it was.
    async fn expiry(timers: &StreamTimers) -> (Expiry, Duration) {
        let started = Instant::now();
        let expiry = timers.expired().await;
        (expiry, started.elapsed())
    }

    #[test]
    fn the_clock_that_runs_out_first_ends_the_stream() {
        block_on(async {
            let timers = StreamTimers::new(Duration::from_millis(200), Duration::from_millis(40));
            timers.route.request_complete();
            let (which, took) = expiry(&timers).await;
            assert_eq!(which, Expiry::Idle);
            assert!(took >= Duration::from_millis(40) && took < Duration::from_millis(200));

            let timers = StreamTimers::new(Duration::from_millis(40), Duration::from_millis(200));
            timers.route.request_complete();
            assert_eq!(expiry(&timers).await.0, Expiry::Route);
        });
    }

    #[test]
    fn activity_lets_the_route_timeout_fire_instead() {
        block_on(async {
            let timers = StreamTimers::new(Duration::from_millis(150), Duration::from_millis(60));
            timers.route.request_complete();
            let touching = async {
                loop {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    timers.idle.touch();
                }
            };
            let which = tokio::select! {
                (which, _) = expiry(&timers) => which,
                () = touching => unreachable!(),
            };
            assert_eq!(which, Expiry::Route);
        });
    }

    #[test]
    fn a_route_clock_started_later_is_waited_for() {
        block_on(async {
            // Only the route clock is on, and it starts 30 ms in: the wait must see the start.
            let timers = StreamTimers::new(Duration::from_millis(30), Duration::ZERO);
            let start = async {
                tokio::time::sleep(Duration::from_millis(30)).await;
                timers.route.request_complete();
                std::future::pending::<()>().await;
            };
            let (which, took) = tokio::select! {
                result = expiry(&timers) => result,
                () = start => unreachable!(),
            };
            assert_eq!(which, Expiry::Route);
            assert!(took >= Duration::from_millis(60), "{took:?}");
        });
    }
}
