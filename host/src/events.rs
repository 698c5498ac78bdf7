//! What other threads tell a worker: the host announces generations, listener changes and
//! shutdown; a queue's enqueue wakes the worker whose VM registered it. Its own module so the
//! host can send them without depending on the worker, which depends on the host.

/// Messages to a worker from other threads.
pub enum WorkerEvent {
    /// An item was enqueued on a queue a root context in one of the worker's VMs registered.
    QueueReady {
        /// The VM's number on its worker.
        vm: u64,
        /// The root context that registered the queue.
        root: u32,
        /// The queue.
        queue: u32,
    },
    /// A new generation is serving: build it now, off the request path.
    Refresh,
    /// A reload changed listeners: stop accepting on `stop` (their connections drain), then
    /// accept on `start` (this worker's clones of the new sockets).
    Listeners {
        /// Newly bound listeners.
        start: Vec<(String, std::net::TcpListener)>,
        /// Names whose current socket stops.
        stop: Vec<String>,
    },
    /// The process is stopping: retire every VM (root `on_done`, `on_delete`), then acknowledge.
    Shutdown(std::sync::mpsc::Sender<()>),
}
