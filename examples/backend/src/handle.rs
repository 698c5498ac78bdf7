//! Running a backend in-process, on its own thread and runtime, for tests and `cargo xtask demo`.

use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::oneshot;

use crate::delay::ExtraDelay;
use crate::flaky::Flaky;
use crate::server::serve_shaped;

/// Starts backends. The listening socket is bound before `start` returns, so callers can send
/// requests immediately: there is no readiness to wait for.
pub struct Backend;

impl Backend {
    /// Starts a backend named `name` on an ephemeral port of 127.0.0.1.
    ///
    /// Panics if the socket cannot be bound: in a test there is nothing sensible to do instead.
    pub fn start(name: &str) -> BackendHandle {
        Self::start_on(name, "127.0.0.1:0".parse().expect("valid address"))
            .unwrap_or_else(|e| panic!("backend {name}: cannot listen on 127.0.0.1:0: {e}"))
    }

    /// Starts a backend named `name` on `addr` (e.g. the demo's fixed ports 8081–8083).
    pub fn start_on(name: &str, addr: SocketAddr) -> std::io::Result<BackendHandle> {
        Self::start_with(name, addr, 1)
    }

    /// Starts a backend named `name` on an ephemeral port of 127.0.0.1 serving its connections
    /// on `threads` threads (all named `backend-<name>`): a backend a many-core proxy cannot
    /// saturate, for scaling measurements. One thread is [`Backend::start`].
    pub fn start_threads(name: &str, threads: usize) -> std::io::Result<BackendHandle> {
        Self::start_with(name, "127.0.0.1:0".parse().expect("valid address"), threads)
    }

    fn start_with(name: &str, addr: SocketAddr, threads: usize) -> std::io::Result<BackendHandle> {
        let listener = TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let requests_seen = Arc::new(AtomicU64::new(0));
        let extra_delay = ExtraDelay::default();
        let flaky = Flaky::default();
        let (stop, stopped) = oneshot::channel::<()>();
        let runtime = match threads {
            0 | 1 => tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?,
            // The accept loop runs on the thread below; connections on the runtime's workers.
            n => tokio::runtime::Builder::new_multi_thread()
                .worker_threads(n)
                .thread_name(format!("backend-{name}"))
                .enable_all()
                .build()?,
        };
        let thread = std::thread::Builder::new()
            .name(format!("backend-{name}"))
            .spawn({
                let name = name.to_string();
                let counter = requests_seen.clone();
                let delay = extra_delay.clone();
                let flaky = flaky.clone();
                move || {
                    runtime.block_on(async move {
                        let listener = tokio::net::TcpListener::from_std(listener)
                            .expect("registering the listener with tokio");
                        let shutdown = async {
                            let _ = stopped.await;
                        };
                        serve_shaped(listener, name, counter, delay, flaky, shutdown).await;
                    })
                }
            })?;
        Ok(BackendHandle {
            addr,
            name: name.to_string(),
            requests_seen,
            extra_delay,
            flaky,
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

/// A running backend. Dropping it stops the server and joins its thread.
pub struct BackendHandle {
    /// Where the backend listens.
    pub addr: SocketAddr,
    name: String,
    requests_seen: Arc<AtomicU64>,
    extra_delay: ExtraDelay,
    flaky: Flaky,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl BackendHandle {
    /// The name the backend reports in `x-backend` and in the echo's `backend` field.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How many requests reached this backend: lets a test tell "the proxy answered by itself"
    /// from "the request went upstream".
    pub fn requests_seen(&self) -> u64 {
        self.requests_seen.load(Ordering::SeqCst)
    }

    /// Builder style: every answer from now on comes `delay` late (on top of `/delay?ms=`), so
    /// this backend is uniformly slow, e.g. the slow endpoint of a load-balancing benchmark.
    /// `Backend::start("b3").with_delay(Duration::from_millis(40))`.
    pub fn with_delay(self, delay: Duration) -> Self {
        self.extra_delay.set(delay);
        self
    }

    /// Changes the extra delay while serving (`Duration::ZERO` turns it off): an endpoint that
    /// becomes slow, or recovers, in the middle of a test.
    pub fn set_delay(&self, delay: Duration) {
        self.extra_delay.set(delay);
    }

    /// Builder style: every `n`-th request from now on is answered 503 (`n` = 2: half of
    /// them, alternating; 0 = none), whatever its path. Failed requests count in
    /// [`requests_seen`](Self::requests_seen).
    pub fn fail_every(self, n: u64) -> Self {
        self.flaky.set_every(n);
        self
    }

    /// The extra delay every answer gets now (zero unless set).
    pub fn delay(&self) -> Duration {
        self.extra_delay.get()
    }

    /// `http://<addr>`, handy for building URLs.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for BackendHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
