use super::super::{block_on, Expiry, StreamTimers};
use super::*;

/// The stream's clocks with only the route timeout on.
fn route_only(timeout: Duration) -> StreamTimers {
    StreamTimers::new(timeout, Duration::ZERO)
}

#[test]
fn does_not_run_while_the_request_is_arriving() {
    block_on(async {
        let timers = route_only(Duration::from_millis(10));
        let waited = tokio::time::timeout(Duration::from_millis(100), timers.expired()).await;
        assert!(waited.is_err(), "expired before the request was complete");
    });
}

#[test]
fn runs_from_the_request_being_complete() {
    block_on(async {
        let timers = route_only(Duration::from_millis(50));
        let timer = &timers.route;
        let started = Instant::now();
        let expiry = async {
            assert_eq!(timers.expired().await, Expiry::Route);
            started.elapsed()
        };
        let complete = async {
            tokio::time::sleep(Duration::from_millis(30)).await;
            timer.request_complete();
            // A second call does not restart it.
            tokio::time::sleep(Duration::from_millis(30)).await;
            timer.request_complete();
        };
        let (took, ()) = tokio::join!(expiry, complete);
        assert!(took >= Duration::from_millis(80), "{took:?}");
        assert!(took < Duration::from_millis(1000), "{took:?}");
    });
}

#[test]
fn zero_turns_it_off() {
    block_on(async {
        let timers = route_only(Duration::ZERO);
        timers.route.request_complete();
        let waited = tokio::time::timeout(Duration::from_millis(50), timers.expired()).await;
        assert!(waited.is_err(), "a route timeout of 0 expired");
    });
}
