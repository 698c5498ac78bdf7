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

/// hyper's own header timer (30 s by default) used to run between the requests of a keep-alive
/// connection too, closing it after 30 s of silence although `idle_timeout_ms` (60 s by
/// default) allowed more: a connection silent for 32 s is still served when the idle timeout
/// is longer.
#[test]
fn keep_alive_outlasts_hypers_own_header_timer() {
    let backend = Backend::start("b1");
    let proxy = Wasmesh::start(json!({
        "admin": {"address": "127.0.0.1:0"},
        "workers": 1,
        "clusters": [{"name": "backend", "endpoints": [backend.addr.to_string()]}],
        "listeners": [{"name": "main", "address": "127.0.0.1:0", "idle_timeout_ms": 45000,
                       "routes": [{"match": {"prefix": "/"}, "cluster": "backend"}]}]
    }));
    let mut conn = TcpStream::connect(proxy.listener("main")).expect("connecting");
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 4096];
    for round in ["first", "after 32 s of silence"] {
        conn.write_all(b"GET /again HTTP/1.1\r\nhost: x\r\n\r\n")
            .unwrap();
        let n = conn.read(&mut buf).unwrap_or(0);
        assert!(
            buf[..n].starts_with(b"HTTP/1.1 200"),
            "{round}: {:?}",
            String::from_utf8_lossy(&buf[..n])
        );
        if round == "first" {
            std::thread::sleep(Duration::from_secs(32));
        }
    }
    assert_eq!(backend.requests_seen(), 2);
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
    let waited = half_head_is_cut(&mut conn);
    assert_eq!(
        backend.requests_seen(),
        0,
        "an incomplete request must not reach the upstream"
    );
    println!("incomplete request head cut off after {waited:?}");
}

#[test]
fn sigterm_retires_every_vm_through_root_on_done() {
    use wasmesh_tests::{build_filters, Cluster, Listener, MeshConfig, Plugin, ProxyKind, Route};
    let filters = build_filters();
    let backend = Backend::start("b1");
    let config = MeshConfig::new()
        .workers(2)
        .plugin(Plugin::new("abi", &filters.abi_test))
        .cluster(Cluster::fixed("backend", [backend.addr]))
        .listener(
            Listener::new("main")
                .filter("abi")
                .route(Route::prefix("/", "backend")),
        );
    let proxy = ProxyKind::Wasmesh.start(&config);
    let status = std::process::Command::new("kill")
        .args(["-TERM", &proxy.pid().to_string()])
        .status()
        .expect("running kill");
    assert!(status.success());
    // One root context per worker (2) plus none left behind: each says goodbye.
    wasmesh_tests::poll_until(
        "both workers' root contexts to get on_done",
        Duration::from_secs(10),
        || {
            let n = proxy.logs().matches("abi-test: root on_done").count();
            if n >= 2 {
                Ok(())
            } else {
                Err(format!("{n} root on_done lines so far"))
            }
        },
    );
}

/// `request_timeout_ms` bounds how long a request head may take from its first byte, not the
/// silence between the requests of a keep-alive connection: that is `idle_timeout_ms`. (hyper's
/// own header timer also ran between requests and closed idle connections after 10 s.) A
/// second head dripped slowly on the same connection is still cut.
#[test]
fn keep_alive_silence_is_bounded_by_the_idle_timeout_not_the_head_timeout() {
    let backend = Backend::start("b1");
    let proxy = Wasmesh::start(json!({
        "admin": {"address": "127.0.0.1:0"},
        "workers": 1,
        "clusters": [{"name": "backend", "endpoints": [backend.addr.to_string()]}],
        "listeners": [{"name": "main", "address": "127.0.0.1:0",
                       "request_timeout_ms": 300, "idle_timeout_ms": 5000,
                       "routes": [{"match": {"prefix": "/"}, "cluster": "backend"}]}]
    }));
    let mut conn = TcpStream::connect(proxy.listener("main")).expect("connecting");
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 4096];
    for round in ["first", "after a silence of three head timeouts"] {
        conn.write_all(b"GET /again HTTP/1.1\r\nhost: x\r\n\r\n")
            .unwrap();
        let n = conn.read(&mut buf).unwrap_or(0);
        assert!(
            buf[..n].starts_with(b"HTTP/1.1 200"),
            "{round}: {:?}",
            String::from_utf8_lossy(&buf[..n])
        );
        std::thread::sleep(Duration::from_millis(900));
    }
    // A third head, half of it, then nothing: cut about 300 ms after its first byte.
    half_head_is_cut(&mut conn);
    assert_eq!(backend.requests_seen(), 2, "the half head reached nothing");
}

/// Sends half a request head on `conn`, then nothing; asserts the proxy closes the connection
/// within 3 s (its `request_timeout_ms` is 300 in these tests) and returns how long it took.
fn half_head_is_cut(conn: &mut TcpStream) -> Duration {
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
    waited
}

/// `max_requests_per_connection` (Envoy's name): the connection that carried that many
/// requests answers the last one with `connection: close` and closes; a new connection serves.
#[test]
fn a_connection_closes_after_max_requests_per_connection() {
    let backend = Backend::start("b1");
    let proxy = Wasmesh::start(json!({
        "admin": {"address": "127.0.0.1:0"},
        "workers": 1,
        "clusters": [{"name": "backend", "endpoints": [backend.addr.to_string()]}],
        "listeners": [{"name": "main", "address": "127.0.0.1:0",
                       "max_requests_per_connection": 2,
                       "routes": [{"match": {"prefix": "/"}, "cluster": "backend"}]}]
    }));
    let mut conn = wasmesh_tests::raw::Http1Connection::connect(
        proxy.listener("main"),
        Duration::from_secs(5),
    );
    let request = b"GET /n HTTP/1.1\r\nhost: x\r\n\r\n";
    let first = conn.exchange(request).expect("the first response");
    assert_eq!(first.status, 200);
    assert_eq!(
        first.header("connection"),
        None,
        "keep-alive after the first"
    );
    let second = conn.exchange(request).expect("the second response");
    assert_eq!(second.status, 200);
    assert_eq!(second.header("connection"), Some("close"), "{second:?}");
    assert!(
        conn.exchange(request).is_err(),
        "a third request on the spent connection was answered"
    );
    let fresh = wasmesh_tests::client::get(&proxy.url("main", "/fresh"), &[]);
    assert_eq!(fresh.status, 200);
}
