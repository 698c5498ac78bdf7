//! A fixed extra delay on every answer, changeable while the backend serves.
//!
//! It exists to make one endpoint uniformly slow (the load-balancing benchmark's "+40 ms"
//! backend) without a relay in front and without the client having to ask for `/delay`: a
//! balancer must find out for itself which endpoint is slow.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The extra delay of one backend, shared by its handle and its connections (clones share it).
/// It holds back the *answer*: the request is counted in `requests_seen` when it arrives.
#[derive(Debug, Clone, Default)]
pub struct ExtraDelay {
    micros: Arc<AtomicU64>,
}

impl ExtraDelay {
    /// A delay of `delay` (whole microseconds; anything longer than `u64::MAX` µs saturates).
    pub fn new(delay: Duration) -> Self {
        let this = Self::default();
        this.set(delay);
        this
    }

    /// Changes the delay; requests already waiting keep the one they started with.
    pub fn set(&self, delay: Duration) {
        let micros = u64::try_from(delay.as_micros()).unwrap_or(u64::MAX);
        self.micros.store(micros, Ordering::Relaxed);
    }

    /// The delay now.
    pub fn get(&self) -> Duration {
        Duration::from_micros(self.micros.load(Ordering::Relaxed))
    }

    /// Waits out the delay (returns at once when it is zero, without touching the timer).
    pub async fn wait(&self) {
        let delay = self.get();
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_delay() {
        let delay = ExtraDelay::default();
        assert_eq!(delay.get(), Duration::ZERO);
        let clone = delay.clone();
        clone.set(Duration::from_millis(40));
        assert_eq!(delay.get(), Duration::from_millis(40));
        assert_eq!(
            ExtraDelay::new(Duration::from_micros(1500)).get(),
            Duration::from_micros(1500)
        );
    }
}
