//! A cluster's circuit breakers, as Envoy has them: counts of the connections, pending requests
//! and outstanding requests of one cluster over every worker, checked against the cluster's
//! thresholds. A permit holds its place in a count and gives it back when dropped, so nothing
//! can leak a count on an early return.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use crate::spec::CircuitBreakers;

/// Which threshold turned a request away (the metric's `limit` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overflow {
    /// `max_connections`, for a connection that found no room even after waiting.
    Connections,
    /// `max_pending_requests`: the request would have waited for a connection.
    Pending,
    /// `max_requests`: too many requests outstanding.
    Requests,
}

impl Overflow {
    /// The threshold's config name.
    pub fn limit(self) -> &'static str {
        match self {
            Overflow::Connections => "max_connections",
            Overflow::Pending => "max_pending_requests",
            Overflow::Requests => "max_requests",
        }
    }
}

impl std::fmt::Display for Overflow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "circuit breaker {} reached", self.limit())
    }
}

impl std::error::Error for Overflow {}

/// What one cluster holds open now, over every worker.
#[derive(Debug, Default)]
pub struct ClusterLoad {
    connections: AtomicUsize,
    pending: AtomicUsize,
    requests: AtomicUsize,
    /// A connection closed: a pending request may take its place.
    freed: Notify,
}

/// A place in one of a [`ClusterLoad`]'s counts, given back on drop.
#[derive(Debug)]
pub struct Permit {
    load: Arc<ClusterLoad>,
    kind: Count,
}

#[derive(Debug, Clone, Copy)]
enum Count {
    Connection,
    Pending,
    Request,
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.load.count(self.kind).fetch_sub(1, Ordering::AcqRel);
        if let Count::Connection = self.kind {
            self.load.freed.notify_waiters();
        }
    }
}

impl ClusterLoad {
    fn count(&self, kind: Count) -> &AtomicUsize {
        match kind {
            Count::Connection => &self.connections,
            Count::Pending => &self.pending,
            Count::Request => &self.requests,
        }
    }

    /// Takes a place in `kind`'s count if it is below `max`.
    fn try_take(self: &Arc<Self>, kind: Count, max: u32) -> Option<Permit> {
        let max = max as usize;
        self.count(kind)
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()
            .map(|_| Permit {
                load: self.clone(),
                kind,
            })
    }

    /// A place among the outstanding requests, held until the response is over.
    pub fn request(self: &Arc<Self>, limits: &CircuitBreakers) -> Result<Permit, Overflow> {
        self.try_take(Count::Request, limits.max_requests)
            .ok_or(Overflow::Requests)
    }

    /// A place among the requests waiting for a connection, held while it waits.
    pub fn pending(self: &Arc<Self>, limits: &CircuitBreakers) -> Result<Permit, Overflow> {
        self.try_take(Count::Pending, limits.max_pending_requests)
            .ok_or(Overflow::Pending)
    }

    /// Whether one more connection fits under `limits` now.
    pub fn has_room(&self, limits: &CircuitBreakers) -> bool {
        self.connections() < limits.max_connections as usize
    }

    /// A place among the open connections, held as long as the connection is open. At the
    /// limit it waits up to `grace` for one to close: a connection that has just finished its
    /// request may be on its way back to the pool, and the pool hands it out instead.
    pub async fn connection(
        self: &Arc<Self>,
        limits: &CircuitBreakers,
        grace: Duration,
    ) -> Result<Permit, Overflow> {
        let wait = async {
            loop {
                let closed = self.closed();
                tokio::pin!(closed);
                closed.as_mut().enable();
                if let Some(permit) = self.try_take(Count::Connection, limits.max_connections) {
                    return permit;
                }
                closed.await;
            }
        };
        tokio::time::timeout(grace, wait)
            .await
            .map_err(|_| Overflow::Connections)
    }

    /// Completes when one of the cluster's connections closes (register it, with `enable`,
    /// before checking for room, so a close in between is not missed).
    pub fn closed(&self) -> tokio::sync::futures::Notified<'_> {
        self.freed.notified()
    }

    /// Connections open now.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::Acquire)
    }

    /// Requests outstanding now.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn limits(connections: u32, pending: u32, requests: u32) -> CircuitBreakers {
        CircuitBreakers {
            max_connections: connections,
            max_pending_requests: pending,
            max_requests: requests,
        }
    }

    #[test]
    fn requests_past_the_limit_overflow_until_one_ends() {
        let load = Arc::new(ClusterLoad::default());
        let limits = limits(10, 10, 2);
        let a = load.request(&limits).unwrap();
        let _b = load.request(&limits).unwrap();
        assert_eq!(load.request(&limits).unwrap_err(), Overflow::Requests);
        drop(a);
        let _c = load.request(&limits).expect("room again once one ended");
        assert_eq!(load.requests(), 2);
    }

    #[test]
    fn pending_requests_past_the_limit_overflow() {
        let load = Arc::new(ClusterLoad::default());
        let limits = limits(1, 1, 10);
        let waiting = load.pending(&limits).unwrap();
        assert_eq!(load.pending(&limits).unwrap_err(), Overflow::Pending);
        drop(waiting);
        assert!(load.pending(&limits).is_ok());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_connection_at_the_limit_waits_for_one_to_close_within_the_grace() {
        let load = Arc::new(ClusterLoad::default());
        let limits = limits(1, 1, 10);
        let grace = Duration::from_millis(500);
        let first = load.connection(&limits, grace).await.unwrap();
        assert!(!load.has_room(&limits));
        let waiter = tokio::spawn({
            let load = load.clone();
            async move { load.connection(&limits, grace).await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished());
        drop(first);
        let second = waiter.await.unwrap().unwrap();
        assert_eq!(load.connections(), 1);
        let short = Duration::from_millis(20);
        assert_eq!(
            load.connection(&limits, short).await.unwrap_err(),
            Overflow::Connections
        );
        drop(second);
        assert_eq!(load.connections(), 0);
    }
}
