//! Shared queues (`proxy_register/resolve/enqueue/dequeue_shared_queue`).
//!
//! A queue belongs to the VM id and name it was registered under; the
//! registering root context is told of new items through `on_queue_ready`,
//! on the worker that registered it, via the [`QueueWaker`] it left here.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use super::refusal::Refusals;

/// Called (from any thread) when an item is enqueued; delivers
/// `on_queue_ready` to the owning worker.
pub type QueueWaker = Box<dyn Fn(u32) + Send + Sync>;

struct Queue {
    /// The VM id that registered it: its items count against that VM id's bytes.
    vm_id: String,
    items: VecDeque<Vec<u8>>,
    waker: Option<QueueWaker>,
}

#[derive(Default)]
struct Inner {
    by_name: HashMap<(String, String), u32>,
    queues: HashMap<u32, Queue>,
    /// Bytes of queued items, by the owning queue's VM id.
    bytes: HashMap<String, usize>,
    next_id: u32,
}

/// Why an operation failed.
#[derive(Debug, PartialEq, Eq)]
pub enum QueueError {
    /// No such queue.
    NotFound,
    /// Nothing to dequeue.
    Empty,
    /// The VM id already has [`MAX_QUEUES_PER_VM`] queues, or the item would take its queued
    /// bytes past [`MAX_QUEUED_BYTES_PER_VM`]; nothing changed.
    Refused,
}

/// Bound on items per queue so a producer without a consumer cannot exhaust memory.
pub const MAX_QUEUE_ITEMS: usize = 10_000;

/// Queues one VM id may register. A filter registers one or a few queues by fixed names; 1 024
/// leaves ample room while bounding what a filter registering fresh names forever can hold
/// (each queue is itself bounded by [`MAX_QUEUE_ITEMS`]).
pub const MAX_QUEUES_PER_VM: usize = 1_024;

/// Bytes of items queued in one VM id's queues, unread. Queues carry small messages between a
/// filter's contexts; 64 MiB (as for shared data) bounds a producer whose consumer never reads,
/// which [`MAX_QUEUE_ITEMS`] alone does not when items are large.
pub const MAX_QUEUED_BYTES_PER_VM: usize = 64 << 20;

/// The host-wide set of queues.
pub struct SharedQueues {
    inner: Mutex<Inner>,
    /// Registrations refused for [`MAX_QUEUES_PER_VM`].
    pub refused: Refusals,
}

impl Default for SharedQueues {
    fn default() -> SharedQueues {
        SharedQueues {
            inner: Mutex::default(),
            refused: Refusals::new("queues"),
        }
    }
}

impl SharedQueues {
    /// Registers (or re-opens) a queue and makes `waker` its consumer; a new name past
    /// [`MAX_QUEUES_PER_VM`] is refused.
    pub fn register(&self, vm_id: &str, name: &str, waker: QueueWaker) -> Result<u32, QueueError> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let key = (vm_id.to_string(), name.to_string());
        if let Some(&id) = inner.by_name.get(&key) {
            if let Some(queue) = inner.queues.get_mut(&id) {
                queue.waker = Some(waker);
            }
            return Ok(id);
        }
        let owned = inner.by_name.keys().filter(|(id, _)| id == vm_id).count();
        if owned >= MAX_QUEUES_PER_VM {
            self.refused.refuse(
                vm_id,
                &format!("shared queues are capped at {MAX_QUEUES_PER_VM} per VM id"),
            );
            return Err(QueueError::Refused);
        }
        inner.next_id += 1;
        let id = inner.next_id;
        inner.by_name.insert(key, id);
        inner.queues.insert(
            id,
            Queue {
                vm_id: vm_id.to_string(),
                items: VecDeque::new(),
                waker: Some(waker),
            },
        );
        Ok(id)
    }

    /// Finds a queue registered by any VM.
    pub fn resolve(&self, vm_id: &str, name: &str) -> Option<u32> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner
            .by_name
            .get(&(vm_id.to_string(), name.to_string()))
            .copied()
    }

    /// Appends an item and wakes the consumer (a full queue drops its oldest item; an item past
    /// the VM id's [`MAX_QUEUED_BYTES_PER_VM`] is refused).
    pub fn enqueue(&self, id: u32, item: Vec<u8>) -> Result<(), QueueError> {
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let inner = &mut *guard;
        let queue = inner.queues.get_mut(&id).ok_or(QueueError::NotFound)?;
        let bytes = inner.bytes.entry(queue.vm_id.clone()).or_default();
        let dropped = if queue.items.len() >= MAX_QUEUE_ITEMS {
            queue.items.front().map_or(0, Vec::len)
        } else {
            0
        };
        if *bytes - dropped + item.len() > MAX_QUEUED_BYTES_PER_VM {
            self.refused.refuse(
                &queue.vm_id,
                &format!(
                    "shared queues are capped at {MAX_QUEUED_BYTES_PER_VM} bytes of unread \
                     items per VM id"
                ),
            );
            return Err(QueueError::Refused);
        }
        if queue.items.len() >= MAX_QUEUE_ITEMS {
            queue.items.pop_front();
        }
        *bytes = *bytes - dropped + item.len();
        queue.items.push_back(item);
        if let Some(waker) = &queue.waker {
            waker(id);
        }
        Ok(())
    }

    /// Takes the oldest item.
    pub fn dequeue(&self, id: u32) -> Result<Vec<u8>, QueueError> {
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let inner = &mut *guard;
        let queue = inner.queues.get_mut(&id).ok_or(QueueError::NotFound)?;
        let item = queue.items.pop_front().ok_or(QueueError::Empty)?;
        if let Some(bytes) = inner.bytes.get_mut(&queue.vm_id) {
            *bytes -= item.len();
        }
        Ok(item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_cap_refuses_new_names_per_vm_id_but_reopens_old_ones() {
        let queues = SharedQueues::default();
        let waker = || -> QueueWaker { Box::new(|_| {}) };
        for i in 0..MAX_QUEUES_PER_VM {
            queues.register("vm", &format!("q{i}"), waker()).unwrap();
        }
        let extra = format!("q{MAX_QUEUES_PER_VM}");
        assert_eq!(
            queues.register("vm", &extra, waker()),
            Err(QueueError::Refused)
        );
        assert_eq!(queues.refused.count(), 1);
        assert_eq!(queues.resolve("vm", &extra), None);
        // An existing queue re-opens and still works; another VM id has its own budget.
        let first = queues.register("vm", "q0", waker()).unwrap();
        assert_eq!(queues.resolve("vm", "q0"), Some(first));
        queues.enqueue(first, b"item".to_vec()).unwrap();
        assert_eq!(queues.dequeue(first).unwrap(), b"item");
        assert!(queues.register("other", &extra, waker()).is_ok());
    }

    #[test]
    fn queued_bytes_are_capped_per_vm_id_and_freed_by_dequeue() {
        let queues = SharedQueues::default();
        let a = queues.register("vm", "a", Box::new(|_| {})).unwrap();
        let b = queues.register("vm", "b", Box::new(|_| {})).unwrap();
        let other = queues.register("other", "a", Box::new(|_| {})).unwrap();
        let half = vec![1u8; MAX_QUEUED_BYTES_PER_VM / 2];
        queues.enqueue(a, half.clone()).unwrap();
        queues.enqueue(b, half.clone()).unwrap();
        // Both queues of the VM id share one budget; another VM id has its own.
        assert_eq!(queues.enqueue(a, vec![2]), Err(QueueError::Refused));
        assert_eq!(queues.refused.count(), 1);
        queues.enqueue(other, half.clone()).unwrap();
        // Nothing was lost; reading frees room.
        assert_eq!(queues.dequeue(a).unwrap(), half);
        queues.enqueue(a, vec![2]).unwrap();
        assert_eq!(queues.dequeue(a).unwrap(), vec![2]);
        assert_eq!(queues.dequeue(b).unwrap(), half);
    }
}
