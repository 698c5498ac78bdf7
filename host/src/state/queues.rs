//! Shared queues (`proxy_register/resolve/enqueue/dequeue_shared_queue`).
//!
//! A queue belongs to the VM id and name it was registered under; the
//! registering root context is told of new items through `on_queue_ready`,
//! on the worker that registered it, via the [`QueueWaker`] it left here.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// Called (from any thread) when an item is enqueued; delivers
/// `on_queue_ready` to the owning worker.
pub type QueueWaker = Box<dyn Fn(u32) + Send + Sync>;

struct Queue {
    items: VecDeque<Vec<u8>>,
    waker: Option<QueueWaker>,
}

#[derive(Default)]
struct Inner {
    by_name: HashMap<(String, String), u32>,
    queues: HashMap<u32, Queue>,
    next_id: u32,
}

/// Why an operation failed.
#[derive(Debug, PartialEq, Eq)]
pub enum QueueError {
    /// No such queue.
    NotFound,
    /// Nothing to dequeue.
    Empty,
}

/// Bound on items per queue so a producer without a consumer cannot exhaust memory.
pub const MAX_QUEUE_ITEMS: usize = 10_000;

/// The host-wide set of queues.
#[derive(Default)]
pub struct SharedQueues {
    inner: Mutex<Inner>,
}

impl SharedQueues {
    /// Registers (or re-opens) a queue and makes `waker` its consumer.
    pub fn register(&self, vm_id: &str, name: &str, waker: QueueWaker) -> u32 {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let key = (vm_id.to_string(), name.to_string());
        if let Some(&id) = inner.by_name.get(&key) {
            if let Some(queue) = inner.queues.get_mut(&id) {
                queue.waker = Some(waker);
            }
            return id;
        }
        inner.next_id += 1;
        let id = inner.next_id;
        inner.by_name.insert(key, id);
        inner.queues.insert(
            id,
            Queue {
                items: VecDeque::new(),
                waker: Some(waker),
            },
        );
        id
    }

    /// Finds a queue registered by any VM.
    pub fn resolve(&self, vm_id: &str, name: &str) -> Option<u32> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner
            .by_name
            .get(&(vm_id.to_string(), name.to_string()))
            .copied()
    }

    /// Appends an item and wakes the consumer.
    pub fn enqueue(&self, id: u32, item: Vec<u8>) -> Result<(), QueueError> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let queue = inner.queues.get_mut(&id).ok_or(QueueError::NotFound)?;
        if queue.items.len() >= MAX_QUEUE_ITEMS {
            queue.items.pop_front();
        }
        queue.items.push_back(item);
        if let Some(waker) = &queue.waker {
            waker(id);
        }
        Ok(())
    }

    /// Takes the oldest item.
    pub fn dequeue(&self, id: u32) -> Result<Vec<u8>, QueueError> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let queue = inner.queues.get_mut(&id).ok_or(QueueError::NotFound)?;
        queue.items.pop_front().ok_or(QueueError::Empty)
    }
}
