//! Envoy's stream idle timeout: a stream on which nothing moves either way for that long is
//! ended, whatever the route timeout says (it may be off). Activity is a chunk of the client's
//! body arriving or a chunk of the response reaching the client's connection; a client that does
//! not read, or an upstream that sends nothing, is idle.

use std::cell::Cell;
use std::time::Duration;

use tokio::time::Instant;

/// One stream's idle timer.
#[derive(Debug)]
pub struct StreamIdle {
    timeout: Duration,
    last: Cell<Instant>,
}

impl StreamIdle {
    /// A timer for `timeout` (0: off), started now.
    pub fn new(timeout: Duration) -> Self {
        Self {
            timeout,
            last: Cell::new(Instant::now()),
        }
    }

    /// Something moved: the timer starts over.
    pub fn touch(&self) {
        self.last.set(Instant::now());
    }

    /// When it runs out if nothing moves before; `None` when it is off.
    pub fn deadline(&self) -> Option<Instant> {
        (!self.timeout.is_zero()).then(|| self.last.get() + self.timeout)
    }

    /// Resolves once nothing has moved for the timeout; never when it is 0.
    pub async fn expired(&self) {
        if self.timeout.is_zero() {
            return std::future::pending().await;
        }
        loop {
            let deadline = self.last.get() + self.timeout;
            if Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep_until(deadline).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::block_on;
    use super::*;

    #[test]
    fn activity_pushes_the_expiry_back() {
        block_on(async {
            let idle = StreamIdle::new(Duration::from_millis(60));
            let started = Instant::now();
            let touching = async {
                for _ in 0..3 {
                    tokio::time::sleep(Duration::from_millis(30)).await;
                    idle.touch();
                }
                std::future::pending::<()>().await;
            };
            tokio::select! {
                () = idle.expired() => {}
                () = touching => {}
            }
            let took = started.elapsed();
            assert!(took >= Duration::from_millis(150), "expired after {took:?}");
        });
    }

    #[test]
    fn zero_turns_it_off() {
        block_on(async {
            let idle = StreamIdle::new(Duration::ZERO);
            let waited = tokio::time::timeout(Duration::from_millis(50), idle.expired()).await;
            assert!(waited.is_err());
        });
    }
}
