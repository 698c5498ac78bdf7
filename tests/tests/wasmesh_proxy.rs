//! wasmesh's own connection handling: keep-alive connections are closed
//! after `idle_timeout_ms` of silence, and served normally before that.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::json;
use wasmesh_backend::Backend;
use wasmesh_tests::Wasmesh;

#[test]
fn idle_keep_alive_connection_is_closed() {
    let backend = Backend::start("b1");
    let proxy = Wasmesh::start(json!({
        "admin": {"address": "127.0.0.1:0"},
        "workers": 1,
        "clusters": [{"name": "backend", "endpoints": [backend.addr.to_string()]}],
        "listeners": [{"name": "main", "address": "127.0.0.1:0", "idle_timeout_ms": 300,
                       "routes": [{"match": {"prefix": "/"}, "cluster": "backend"}]}]
    }));
    let mut conn = TcpStream::connect(proxy.listener("main")).expect("connecting");
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    conn.write_all(b"GET /one HTTP/1.1\r\nhost: x\r\n\r\n")
        .unwrap();
    let mut buf = [0u8; 4096];
    let n = conn.read(&mut buf).expect("a response");
    assert!(
        buf[..n].starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&buf[..n])
    );

    // Silence: the proxy must close the connection after ~300 ms, well before our 5 s read timeout.
    let quiet = Instant::now();
    let mut rest = Vec::new();
    let closed = conn.read_to_end(&mut rest);
    let waited = quiet.elapsed();
    assert!(
        closed.is_ok(),
        "connection was not closed by the proxy: {closed:?}"
    );
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_secs(3),
        "closed after {waited:?}, expected about 300 ms"
    );
    println!("idle connection closed after {waited:?}");
}

#[test]
fn slow_request_headers_are_cut_off() {
    let backend = Backend::start("b1");
    let proxy = Wasmesh::start(json!({
        "admin": {"address": "127.0.0.1:0"},
        "workers": 1,
        "clusters": [{"name": "backend", "endpoints": [backend.addr.to_string()]}],
        "listeners": [{"name": "main", "address": "127.0.0.1:0", "request_timeout_ms": 300,
                       "routes": [{"match": {"prefix": "/"}, "cluster": "backend"}]}]
    }));
    let mut conn = TcpStream::connect(proxy.listener("main")).expect("connecting");
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    // Half a request head, then nothing: the proxy must give up after ~300 ms.
    conn.write_all(b"GET /slow HTTP/1.1\r\nhost: x\r\n")
        .unwrap();
    let started = Instant::now();
    let mut rest = Vec::new();
    let closed = conn.read_to_end(&mut rest);
    let waited = started.elapsed();
    assert!(closed.is_ok(), "connection was not closed: {closed:?}");
    assert!(
        waited < Duration::from_secs(3),
        "closed after {waited:?}, expected about 300 ms"
    );
    assert_eq!(
        backend.requests_seen(),
        0,
        "an incomplete request must not reach the upstream"
    );
    println!("incomplete request head cut off after {waited:?}");
}
