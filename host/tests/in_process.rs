//! The proxy driven in process, as `wasmesh run` drives it minus the process: a `Host` from a
//! config file, its listener bound, one worker, an echo backend in this process. A request
//! goes through the filter to the backend; a reload swaps the generation while the worker
//! keeps serving on the same socket; a bad reload keeps the running one.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use wasmesh::host::{ConfigSource, Host};
use wasmesh_backend::Backend;

/// A scratch directory with the filter and the config.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        Scratch::new_named("reload")
    }

    /// Tests run in parallel: each has a directory of its own.
    fn new_named(name: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("wasmesh-in-process-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let wasm = wat::parse_str(include_str!("guests/generation.wat")).unwrap();
        std::fs::write(dir.join("generation.wasm"), wasm).unwrap();
        let wasm = wat::parse_str(include_str!("guests/call.wat")).unwrap();
        std::fs::write(dir.join("call.wasm"), wasm).unwrap();
        Scratch(dir)
    }

    /// The listener's chain: `generation` (configured with `generation`), then `others`.
    fn write_config(&self, backend: SocketAddr, generation: &str) -> PathBuf {
        self.write_config_with(backend, generation, &[])
    }

    fn write_config_with(&self, backend: SocketAddr, generation: &str, others: &[&str]) -> PathBuf {
        let filters: Vec<String> = std::iter::once("generation")
            .chain(others.iter().copied())
            .map(|name| format!("{name:?}"))
            .collect();
        let filters = filters.join(", ");
        let path = self.0.join("wasmesh.json");
        let json = format!(
            r#"{{
  "admin": {{ "address": "127.0.0.1:0" }},
  "workers": 1,
  "plugins": [
    {{ "name": "generation", "wasm": "generation.wasm", "configuration": "{generation}" }},
    {{ "name": "call", "wasm": "call.wasm" }}
  ],
  "clusters": [{{ "name": "echo", "endpoints": ["{backend}"] }}],
  "listeners": [{{
    "name": "main",
    "address": "127.0.0.1:0",
    "filters": [{filters}],
    "routes": [{{ "match": {{ "prefix": "/" }}, "cluster": "echo" }}]
  }}]
}}"#
        );
        std::fs::write(&path, json).unwrap();
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One `GET /` on a fresh connection: the status line and the body.
fn get(proxy: SocketAddr) -> (String, String) {
    let mut conn = TcpStream::connect(proxy).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    conn.write_all(b"GET / HTTP/1.1\r\nhost: svc\r\nconnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    let status = answer.lines().next().unwrap_or_default().to_string();
    let body = answer
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_string();
    (status, body)
}

fn generation_seen(body: &str) -> Option<String> {
    let echo: serde_json::Value = serde_json::from_str(body).ok()?;
    Some(echo["headers"]["x-generation"].as_str()?.to_string())
}

/// Asks until the answer names `generation`: a worker builds a new generation when the host's
/// announcement reaches it, a moment after `reload` returns.
fn eventually_served_by(proxy: SocketAddr, generation: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = get(proxy);
        assert!(status.contains(" 200 "), "{status}\n{body}");
        if generation_seen(&body).as_deref() == Some(generation) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "still served by {:?}, not {generation}",
            generation_seen(&body)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn start(config: &Path) -> (std::sync::Arc<Host>, SocketAddr) {
    let host = Host::start(ConfigSource::File(config.to_path_buf())).expect("wasmesh starts");
    host.bind_listeners(1).expect("binding the listener");
    let proxy = host.bound()[0].1;
    wasmesh::worker::spawn(host.clone(), 1).expect("the worker starts");
    (host, proxy)
}

#[test]
fn a_request_goes_through_the_filter_and_a_reload_swaps_the_generation() {
    let backend = Backend::start("echo");
    let scratch = Scratch::new();
    let config = scratch.write_config(backend.addr, "one");
    let (host, proxy) = start(&config);

    let (status, body) = get(proxy);
    assert!(status.contains(" 200 "), "{status}\n{body}");
    assert_eq!(generation_seen(&body).as_deref(), Some("one"), "{body}");

    let first = host.current_id();
    scratch.write_config(backend.addr, "two");
    let second = host.reload().expect("the new configuration is accepted");
    assert!(second > first);
    eventually_served_by(proxy, "two");
    assert_eq!(host.bound()[0].1, proxy, "the listener kept its socket");

    // A configuration whose plugin cannot load is refused; the running one serves on.
    std::fs::write(scratch.0.join("generation.wasm"), b"not wasm").unwrap();
    scratch.write_config(backend.addr, "three");
    let error = host
        .reload()
        .expect_err("a module that is not wasm is refused");
    assert!(
        format!("{error:#}").contains("not a wasm module"),
        "{error:#}"
    );
    assert_eq!(host.current_id(), second);
    eventually_served_by(proxy, "two");

    host.shutdown(Duration::from_secs(2));
}

#[test]
fn a_filter_waits_for_its_http_call_and_goes_on_with_the_answer() {
    let backend = Backend::start("echo");
    let scratch = Scratch::new_named("call");
    let config = scratch.write_config_with(backend.addr, "one", &["call"]);
    let (host, proxy) = start(&config);

    let (status, body) = get(proxy);
    assert!(status.contains(" 200 "), "{status}\n{body}");
    let echo: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(echo["headers"]["x-call-status"], "200", "{body}");
    assert_eq!(echo["headers"]["x-generation"], "one", "{body}");
    // The backend saw the call and the request.
    assert_eq!(backend.requests_seen(), 2);

    host.shutdown(Duration::from_secs(2));
}
