//! A cluster's circuit breakers as one worker applies them to its pool: whether a request may
//! go to the cluster's pool now, wait as a pending request, or be turned away. The counts over
//! every worker are in [`crate::overload::ClusterLoad`]; this adds what only the worker knows,
//! whether its own pool may have an idle connection to hand out.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::Notify;

use crate::overload::{ClusterLoad, Overflow, Overload, Permit};
use crate::spec::ClusterConfig;

/// One worker's view of one cluster's limits.
pub struct PoolAdmission {
    cluster: String,
    config: ClusterConfig,
    load: Arc<ClusterLoad>,
    overload: Arc<Overload>,
    /// Connections this worker's pool holds (kept by the connector).
    open_here: Arc<AtomicUsize>,
    /// Requests of this worker in an exchange with the pool.
    exchanging: Rc<Cell<usize>>,
    /// An exchange of this worker ended: its connection may be idle now.
    ended: Rc<Notify>,
}

/// A request counted among the cluster's outstanding requests until dropped (when the
/// response is over).
pub struct Admission {
    _outstanding: Permit,
    exchanging: Option<Rc<Cell<usize>>>,
    ended: Rc<Notify>,
}

impl Drop for Admission {
    fn drop(&mut self) {
        if let Some(exchanging) = self.exchanging.take() {
            exchanging.set(exchanging.get() - 1);
            self.ended.notify_waiters();
        }
    }
}

impl PoolAdmission {
    /// Limits for `config`'s cluster, counted in `overload`.
    pub fn new(config: &ClusterConfig, overload: &Arc<Overload>) -> PoolAdmission {
        PoolAdmission {
            cluster: config.name.clone(),
            config: config.clone(),
            load: overload.cluster(&config.name),
            overload: overload.clone(),
            open_here: Arc::default(),
            exchanging: Rc::default(),
            ended: Rc::default(),
        }
    }

    /// The count the connector keeps of this pool's connections.
    pub fn open_here(&self) -> Arc<AtomicUsize> {
        self.open_here.clone()
    }

    /// Counts the request among the outstanding ones (`max_requests`); an overflow is counted.
    pub fn admit(&self) -> Result<Admission, Overflow> {
        let outstanding = self
            .load
            .request(&self.config.circuit_breakers)
            .inspect_err(|overflow| self.overload.count_overflow(&self.cluster, *overflow))?;
        Ok(Admission {
            _outstanding: outstanding,
            exchanging: None,
            ended: self.ended.clone(),
        })
    }

    /// Waits until the pool can serve `admission`'s request: an idle connection of this pool,
    /// or room for one more. Meanwhile the request is pending (`max_pending_requests`); the
    /// wait ends with the caller's route timeout.
    pub async fn ready(&self, admission: &mut Admission) -> Result<(), Overflow> {
        if !self.has_room() {
            let limits = &self.config.circuit_breakers;
            self.overload.cx_overflow.inc(&self.cluster);
            let _pending = self
                .load
                .pending(limits)
                .inspect_err(|overflow| self.overload.count_overflow(&self.cluster, *overflow))?;
            loop {
                // Both registered before the check, so nothing that frees room is missed.
                let ended = self.ended.notified();
                let closed = self.load.closed();
                tokio::pin!(ended, closed);
                ended.as_mut().enable();
                closed.as_mut().enable();
                if self.has_room() {
                    break;
                }
                tokio::select! {
                    () = ended => {}
                    () = closed => {}
                }
            }
        }
        self.exchanging.set(self.exchanging.get() + 1);
        admission.exchanging = Some(self.exchanging.clone());
        Ok(())
    }

    /// An HTTP/1.1 connection carries one exchange at a time, so the pool has an idle one when
    /// it holds more connections than exchanges; an h2 connection carries them all.
    fn has_room(&self) -> bool {
        if self.load.has_room(&self.config.circuit_breakers) {
            return true;
        }
        let open = self.open_here.load(Ordering::Acquire);
        if self.config.http2 {
            open > 0
        } else {
            open > self.exchanging.get()
        }
    }
}
