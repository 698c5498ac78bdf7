//! The `http1_front` harness: a real wasmesh (one worker, the [`passthrough`](../guests/passthrough.wat)
//! filter, routes to an in-process echo backend, to the same backend over h2c and to a port that
//! refuses) is started once per process through the same public calls as `wasmesh run`
//! (`Host::start`, `bind_listeners`, `worker::spawn`); each input is then written to its listener
//! over a fresh loopback connection, exactly as a client would send it.
//!
//! The first input byte is not sent: it says how the client behaves after writing the rest. Even:
//! it keeps the connection open and reads until [`SILENCE`] passes without a byte, so every
//! (pipelined) request is answered. Odd: it shuts its write side down at once, and hyper drops
//! what is in flight and closes (the aborted-client paths). Either way one input takes at most
//! [`ITERATION_LIMIT`].
//!
//! The invariant, checked after the first input and every [`CHECK_EVERY`] inputs: a well-formed
//! request on a fresh connection still gets the backend's 200 through the filter, and no VM
//! has failed. A panic anywhere in the proxy (any thread) aborts the process, which libFuzzer
//! reports as a crash.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use wasmesh::host::{ConfigSource, Host};
use wasmesh_backend::{Backend, BackendHandle};

/// The longest one input may take; the proxy's own timeouts are shorter (routes: 200 ms).
pub const ITERATION_LIMIT: Duration = Duration::from_secs(1);
/// How long an open connection may stay silent before the client gives up on more bytes.
const SILENCE: Duration = Duration::from_millis(10);
/// Inputs between two liveness checks (a check costs about one proxied request).
pub const CHECK_EVERY: u64 = 32;
/// How long a liveness check may wait for its answer: generous, CI machines are busy.
const CHECK_LIMIT: Duration = Duration::from_secs(10);

/// The proxy under test and its backend, alive for the whole process.
pub struct Front {
    host: Arc<Host>,
    proxy: SocketAddr,
    inputs: AtomicU64,
    /// `WASMESH_FUZZ_ECHO` is set: print the start of every answer (to see what an input does).
    echo: bool,
    _backend: BackendHandle,
}

/// The process's [`Front`], started on first use.
pub fn front() -> &'static Front {
    static FRONT: OnceLock<Front> = OnceLock::new();
    FRONT.get_or_init(Front::start)
}

impl Front {
    fn start() -> Front {
        ignore_sigpipe();
        // Compiled modules stay in memory: the fuzzer must not write to the user's cache.
        std::env::set_var("WASMESH_CACHE_DIR", "off");
        let backend = Backend::start("fuzz");
        let dir = scratch_dir("front");
        let wasm = wat::parse_str(include_str!("../guests/passthrough.wat"))
            .expect("passthrough.wat assembles");
        std::fs::write(dir.join("passthrough.wasm"), wasm).expect("writing passthrough.wasm");
        let config = dir.join("wasmesh.json");
        std::fs::write(&config, config_json(backend.addr)).expect("writing wasmesh.json");
        let host = Host::start(ConfigSource::File(config)).expect("wasmesh starts");
        // Read once: the host compiled the module and keeps the configuration in memory.
        let _ = std::fs::remove_dir_all(&dir);
        host.bind_listeners(1).expect("binding the listener");
        let proxy = host.bound()[0].1;
        wasmesh::worker::spawn(host.clone(), 1).expect("the worker starts");
        Front {
            host,
            proxy,
            inputs: AtomicU64::new(0),
            echo: std::env::var_os("WASMESH_FUZZ_ECHO").is_some(),
            _backend: backend,
        }
    }

    /// Sends one input, then checks the proxy still serves when it is time to.
    pub fn run(&self, data: &[u8]) {
        let n = self.inputs.fetch_add(1, Ordering::Relaxed);
        if let Some((&control, request)) = data.split_first() {
            self.exchange(request, control & 1 == 0);
        }
        if n.is_multiple_of(CHECK_EVERY) {
            self.assert_serving();
        }
    }

    /// Writes `request` on a fresh connection and reads whatever comes back until the proxy
    /// closes, the connection falls silent (`keep_open`) or [`ITERATION_LIMIT`] passes.
    fn exchange(&self, request: &[u8], keep_open: bool) {
        let deadline = Instant::now() + ITERATION_LIMIT;
        let mut conn = self.connect();
        let _ = conn.set_write_timeout(Some(ITERATION_LIMIT));
        // The proxy may close before taking everything (a 431, a 400): not a failure.
        let _ = conn.write_all(request);
        if !keep_open {
            let _ = conn.shutdown(Shutdown::Write);
        }
        let mut buf = vec![0u8; 64 << 10];
        let mut answer = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            let wait = if keep_open { left.min(SILENCE) } else { left };
            let _ = conn.set_read_timeout(Some(wait));
            match conn.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) if self.echo && answer.len() < 4096 => answer.extend_from_slice(&buf[..n]),
                Ok(_) => {}
            }
        }
        if self.echo {
            eprintln!("answer: {:?}", String::from_utf8_lossy(&answer));
        }
    }

    /// A connection to the proxy. A refused or failed connect is retried briefly (the kernel
    /// may be short of ports for a moment), then it means the listener is gone: a finding.
    fn connect(&self) -> TcpStream {
        let mut tries = 0;
        loop {
            match TcpStream::connect_timeout(&self.proxy, CHECK_LIMIT) {
                Ok(conn) => return conn,
                Err(e) if tries < 50 && e.kind() != ErrorKind::ConnectionRefused => {
                    tries += 1;
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(e) => panic!("wasmesh stopped accepting on {}: {e}", self.proxy),
            }
        }
    }

    /// Panics unless a well-formed request gets the backend's 200 through the filter, and no
    /// VM has failed so far.
    ///
    /// One answer is asked again (up to 3 times: an h2 input may leave several such connections):
    /// `503 … connection termination`, when the pooled upstream connection the check was given
    /// had just been closed by the backend after an answer that looked keep-alive (the backend
    /// does that to `/status/1xx`: hyper answers 500 and closes without `connection: close`).
    /// Envoy 1.40 loses that race too: behind it, 20 of 200 requests sent right after such an
    /// answer got this 503; behind wasmesh, 30.
    fn assert_serving(&self) {
        let lost_race = |a: &str| a.starts_with("http/1.1 503") && a.contains("termination");
        let mut answer = self.ask_alive();
        for _ in 0..3 {
            if !lost_race(&answer) {
                break;
            }
            answer = self.ask_alive();
        }
        assert!(
            answer.starts_with("http/1.1 200") && answer.contains("x-backend: fuzz"),
            "liveness check: wasmesh no longer proxies a plain GET; it answered: {answer:.300}"
        );
        assert!(
            answer.contains("x-fuzz-filter: seen"),
            "liveness check: the answer did not go through the filter: {answer:.300}"
        );
        let failures = self.host.counters.vms.total.load(Ordering::Relaxed);
        assert_eq!(
            failures, 0,
            "the passthrough filter's VM failed {failures} times"
        );
    }

    /// A plain GET on a fresh connection; its whole answer, lowercase.
    fn ask_alive(&self) -> String {
        let mut conn = self.connect();
        let _ = conn.set_read_timeout(Some(CHECK_LIMIT));
        let _ = conn.set_write_timeout(Some(CHECK_LIMIT));
        let request = b"GET /fuzz/alive HTTP/1.1\r\nhost: fuzz\r\nconnection: close\r\n\r\n";
        conn.write_all(request)
            .expect("liveness check: wasmesh takes a request");
        let mut response = Vec::new();
        if let Err(e) = conn.read_to_end(&mut response) {
            panic!("liveness check: no whole answer from wasmesh within {CHECK_LIMIT:?}: {e}");
        }
        String::from_utf8_lossy(&response).to_ascii_lowercase()
    }
}

/// Ignores SIGPIPE, as the `wasmesh` binary does: Rust's runtime sets it to ignored before
/// `main`, but libFuzzer's `main` is C's, and hyper's vectored writes (`writev`, which takes no
/// `MSG_NOSIGNAL`) to a client that already closed would kill the process.
fn ignore_sigpipe() {
    // SAFETY: sets the disposition of one signal to "ignore"; no handler runs, nothing else
    // in the process is touched.
    #[allow(unsafe_code)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
}

/// One listener with the passthrough filter, proxying WebSocket upgrades (the backend answers
/// them on `/ws`); routes to the echo backend over HTTP/1.1 (default),
/// over h2c (`x-fuzz-upstream: h2`), with a 5 ms timeout (`x-fuzz-route: short`, so a 504 comes
/// before the client stops listening) and to a port that refuses (`/refused`). Route timeouts
/// are short so a slow answer (`/delay?ms=…`) still ends well within [`ITERATION_LIMIT`].
fn config_json(backend: SocketAddr) -> String {
    format!(
        r#"{{
  "admin": {{ "address": "127.0.0.1:0" }},
  "workers": 1,
  "plugins": [{{ "name": "passthrough", "wasm": "passthrough.wasm" }}],
  "clusters": [
    {{ "name": "echo", "endpoints": ["{backend}"] }},
    {{ "name": "echo-h2", "endpoints": ["{backend}"], "http2": true }},
    {{ "name": "refused", "endpoints": ["127.0.0.1:1"], "connect_timeout_ms": 100 }}
  ],
  "listeners": [{{
    "name": "front",
    "address": "127.0.0.1:0",
    "filters": ["passthrough"],
    "request_timeout_ms": 500,
    "max_requests_per_connection": 50,
    "upgrade_configs": [{{ "upgrade_type": "websocket" }}],
    "routes": [
      {{ "match": {{ "prefix": "/refused" }}, "cluster": "refused", "timeout_ms": 200 }},
      {{ "match": {{ "prefix": "/", "headers": [{{ "name": "x-fuzz-upstream", "exact": "h2" }}] }},
         "cluster": "echo-h2", "timeout_ms": 200 }},
      {{ "match": {{ "prefix": "/", "headers": [{{ "name": "x-fuzz-route", "exact": "short" }}] }},
         "cluster": "echo", "timeout_ms": 5 }},
      {{ "match": {{ "prefix": "/" }}, "cluster": "echo", "timeout_ms": 200 }}
    ]
  }}]
}}"#
    )
}

/// A fresh directory for this process's generated files.
pub(crate) fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wasmesh-fuzz-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("creating the fuzz scratch directory");
    dir
}
