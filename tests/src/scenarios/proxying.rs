//! Plain proxying, as a user of any proxy would check it: routing, the `original_dst` cluster a
//! filter steers, h2c upstreams, streamed and large bodies, timeouts and refused connections,
//! keep-alive and what a proxy must not forward.
//!
//! Where the two hosts are documented to differ (Envoy forwards `x-envoy-original-dst-host` and
//! leaves `x-forwarded-for` alone without `use_remote_address`), each host's own behaviour is
//! asserted, with the reason next to the assertion.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::client::{self, Client};
use crate::raw::Http1Connection;
use crate::{build_filters, Backend, Cluster, Listener, MeshConfig, Plugin, ProxyKind, Route};

/// The header an `original_dst` cluster reads (the `lb` filter's default).
const ORIGINAL_DST_HEADER: &str = "x-envoy-original-dst-host";

/// How long one read on a raw connection may wait: far beyond any answer here, so only a hang
/// trips it.
const RAW_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// A request path, its extra headers, and the backend that must answer it.
type RouteCase<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);

/// A listener `main` without filters and the given routes.
fn plain(routes: Vec<Route>) -> Listener {
    routes
        .into_iter()
        .fold(Listener::new("main"), |listener, route| {
            listener.route(route)
        })
}

/// Exact paths, prefixes and header matches pick different clusters, first match wins, the query
/// string does not take part, and a request no route takes gets a 404 without reaching anyone.
pub fn routes_pick_clusters(kind: ProxyKind) {
    let host = kind.name();
    let b1 = Backend::start("b1");
    let b2 = Backend::start("b2");
    let config = MeshConfig::new()
        .cluster(Cluster::fixed("one", [b1.addr]))
        .cluster(Cluster::fixed("two", [b2.addr]))
        .listener(plain(vec![
            Route::exact("/exact", "two"),
            Route::prefix("/api/", "two").header("x-tenant", "beta"),
            Route::prefix("/api/", "one"),
            Route::exact("/", "one"),
        ]));
    let proxy = kind.start(&config);
    let cases: [RouteCase; 6] = [
        ("/exact", &[], "b2"),
        ("/exact?q=1", &[], "b2"),
        ("/api/users", &[("x-tenant", "beta")], "b2"),
        ("/api/users", &[("x-tenant", "alpha")], "b1"),
        ("/api/users", &[], "b1"),
        ("/", &[], "b1"),
    ];
    for (path, headers, backend) in cases {
        let response = client::get(&proxy.url("main", path), headers);
        assert_eq!(response.status, 200, "{host}: {path} {headers:?}");
        let echo = response.echo();
        assert_eq!(echo.backend, backend, "{host}: {path} {headers:?}");
        assert_eq!(
            echo.path, path,
            "{host}: the path reaches the upstream as sent"
        );
    }
    let (one, two) = (b1.requests_seen(), b2.requests_seen());
    for path in ["/exact/more", "/other", "/ap"] {
        let response = client::get(&proxy.url("main", path), &[]);
        assert_eq!(response.status, 404, "{host}: {path}: {}", response.text());
    }
    assert_eq!(
        (b1.requests_seen(), b2.requests_seen()),
        (one, two),
        "{host}: unrouted requests must not reach a backend"
    );
}

/// A route to an `original_dst` cluster with no filter to pick the endpoint, and a client that
/// names one in `x-envoy-original-dst-host`. wasmesh strips the client's header on arrival
/// (only a filter may choose where the proxy connects), so the request gets Envoy's
/// `no healthy upstream` 503 and reaches nothing. Envoy trusts the header and connects where
/// the client says: the foot-gun the README's protections table states.
pub fn client_cannot_choose_the_upstream(kind: ProxyKind) {
    let host = kind.name();
    let target = Backend::start("target");
    let config = MeshConfig::new()
        .cluster(Cluster::original_dst("dynamic", ORIGINAL_DST_HEADER))
        .listener(Listener::new("main").route(Route::prefix("/", "dynamic")));
    let proxy = kind.start(&config);
    let named = target.addr.to_string();
    let response = client::get(
        &proxy.url("main", "/chosen"),
        &[(ORIGINAL_DST_HEADER, named.as_str())],
    );
    match kind {
        ProxyKind::Wasmesh => {
            assert_eq!(response.status, 503, "{host}: {}", response.text());
            assert_eq!(response.text(), "no healthy upstream", "{host}");
            assert_eq!(
                target.requests_seen(),
                0,
                "{host}: the client reached {named}"
            );
        }
        ProxyKind::Envoy => {
            assert_eq!(response.status, 200, "{host}: {}", response.text());
            assert_eq!(response.echo().backend, "target", "{host}");
            assert_eq!(target.requests_seen(), 1, "{host}");
        }
    }
}

/// The `headers` filter names the endpoint in `x-envoy-original-dst-host`; the `original_dst`
/// cluster sends the request there, even when the client tried to name another one.
pub fn original_dst_follows_the_filter(kind: ProxyKind) {
    let host = kind.name();
    let filters = build_filters();
    let b1 = Backend::start("b1");
    let b2 = Backend::start("b2");
    let chosen = b2.addr.to_string();
    let plugin = Plugin::new("pick", &filters.headers)
        .configuration(json!({ "request": { "set": { ORIGINAL_DST_HEADER: chosen } } }));
    let config = MeshConfig::new()
        .plugin(plugin)
        .cluster(Cluster::original_dst("dynamic", ORIGINAL_DST_HEADER))
        .listener(
            Listener::new("main")
                .filter("pick")
                .route(Route::prefix("/", "dynamic")),
        );
    let proxy = kind.start(&config);
    let spoofed = b1.addr.to_string();
    for headers in [vec![], vec![(ORIGINAL_DST_HEADER, spoofed.as_str())]] {
        let response = client::get(&proxy.url("main", "/picked"), &headers);
        assert_eq!(response.status, 200, "{host}: {}", response.text());
        let echo = response.echo();
        assert_eq!(echo.backend, "b2", "{host}: client headers {headers:?}");
        assert_eq!(echo.path, "/picked", "{host}");
        let forwarded = echo.header(ORIGINAL_DST_HEADER);
        match kind {
            // The README's contract: the header never reaches the upstream from our host.
            ProxyKind::Wasmesh => assert_eq!(forwarded, None, "{host}: the header is stripped"),
            // Envoy's ORIGINAL_DST cluster only reads the header; it does not sanitise it, so
            // the upstream sees the value the filter set (never the client's).
            ProxyKind::Envoy => assert_eq!(forwarded, Some(chosen.as_str()), "{host}"),
        }
    }
    assert_eq!(b1.requests_seen(), 0, "{host}: nothing may reach b1");
    assert_eq!(b2.requests_seen(), 2, "{host}");
}

/// A TCP relay in front of a backend that records whether connections opened with the HTTP/2
/// connection preface: the only way to see, from outside, which protocol the proxy spoke.
struct PrefaceSniffer {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    h2_connections: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

/// What an HTTP/2 client sends first (RFC 9113 §3.4).
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

impl PrefaceSniffer {
    fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding the sniffer");
        let addr = listener.local_addr().expect("the sniffer's address");
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let connections = Arc::new(AtomicUsize::new(0));
        let h2_connections = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (all, h2, stopped) = (connections.clone(), h2_connections.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stopped.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((downstream, _)) => {
                        all.fetch_add(1, Ordering::SeqCst);
                        let h2 = h2.clone();
                        std::thread::spawn(move || relay(downstream, upstream, &h2));
                    }
                    // Not a readiness wait: the accept loop's pace while idle.
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Self {
            addr,
            connections,
            h2_connections,
            stop,
        }
    }
}

impl Drop for PrefaceSniffer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Reads the first bytes of `downstream`, counts an h2 preface, then copies both ways.
fn relay(downstream: TcpStream, upstream: SocketAddr, h2: &AtomicUsize) {
    let _ = downstream.set_nonblocking(false);
    let _ = downstream.set_read_timeout(Some(RAW_READ_TIMEOUT));
    let mut first = vec![0u8; H2_PREFACE.len()];
    let mut down = downstream;
    if down.read_exact(&mut first).is_err() {
        return;
    }
    if first == H2_PREFACE {
        h2.fetch_add(1, Ordering::SeqCst);
    }
    let _ = down.set_read_timeout(None);
    let Ok(mut up) = TcpStream::connect(upstream) else {
        return;
    };
    if up.write_all(&first).is_err() {
        return;
    }
    let (Ok(mut down_r), Ok(mut up_w)) = (down.try_clone(), up.try_clone()) else {
        return;
    };
    let forward = std::thread::spawn(move || {
        let _ = std::io::copy(&mut down_r, &mut up_w);
        let _ = up_w.shutdown(Shutdown::Write);
    });
    let _ = std::io::copy(&mut up, &mut down);
    let _ = down.shutdown(Shutdown::Write);
    let _ = forward.join();
}

/// A cluster marked http2 speaks h2c with prior knowledge to its endpoint, while the client
/// speaks HTTP/1.1: GETs, a POST body and a streamed response all cross the protocol change.
pub fn upstream_h2c(kind: ProxyKind) {
    let host = kind.name();
    let backend = Backend::start("b1");
    let sniffer = PrefaceSniffer::start(backend.addr);
    let config = MeshConfig::new()
        .cluster(Cluster::fixed("backend", [sniffer.addr]).http2())
        .listener(plain(vec![Route::prefix("/", "backend")]));
    let proxy = kind.start(&config);
    let client = Client::http1();
    for i in 0..3 {
        let path = format!("/h2/{i}?x=y");
        let response = client.get(&proxy.url("main", &path), &[("x-probe", "p")]);
        assert_eq!(response.status, 200, "{host}: {}", response.text());
        assert_eq!(response.version, http::Version::HTTP_11, "{host}");
        let echo = response.echo();
        assert_eq!(
            (echo.backend.as_str(), echo.path.as_str()),
            ("b1", path.as_str())
        );
        assert_eq!(echo.header("x-probe"), Some("p"), "{host}");
    }
    let body = "h2 body ".repeat(10_000);
    let response = client.post(&proxy.url("main", "/upload"), &[], body.clone());
    assert_eq!(response.status, 200, "{host}");
    let echo = response.echo();
    assert_eq!(echo.method, "POST", "{host}");
    assert_eq!(echo.body, body, "{host}: the body crosses h1 → h2 intact");
    let response = client.get(&proxy.url("main", "/stream?chunks=50"), &[]);
    assert_eq!(response.text(), expected_stream(50), "{host}");
    let (all, h2) = (
        sniffer.connections.load(Ordering::SeqCst),
        sniffer.h2_connections.load(Ordering::SeqCst),
    );
    assert!(all >= 1, "{host}: no upstream connection was made");
    assert_eq!(h2, all, "{host}: every upstream connection must be h2c");
    assert_eq!(backend.requests_seen(), 5, "{host}");
}

/// The body `/stream?chunks=n` sends.
fn expected_stream(n: usize) -> String {
    (0..n).map(|i| format!("chunk {i}\n")).collect()
}

/// A chunked response arrives whole, and as it is produced rather than all at the end.
pub fn streamed_response(kind: ProxyKind) {
    let host = kind.name();
    let backend = Backend::start("b1");
    let config = MeshConfig::single(vec![], [backend.addr]);
    let proxy = kind.start(&config);
    let response = client::get(&proxy.url("main", "/stream?chunks=500"), &[]);
    assert_eq!(response.status, 200, "{host}");
    assert_eq!(response.text(), expected_stream(500), "{host}");

    // Five chunks 300 ms apart: the first must arrive long before the last is even sent.
    let mut stream = TcpStream::connect(proxy.listener("main")).expect("connecting");
    stream.set_read_timeout(Some(RAW_READ_TIMEOUT)).unwrap();
    stream
        .write_all(b"GET /stream?chunks=5&ms=300 HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .unwrap();
    let started = Instant::now();
    let mut received = Vec::new();
    let mut first_chunk_after = None;
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf).unwrap_or(0);
        if n == 0 {
            break;
        }
        received.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&received);
        if first_chunk_after.is_none() && text.contains("chunk 0\n") {
            first_chunk_after = Some(started.elapsed());
        }
        if text.contains("chunk 4\n") {
            break;
        }
    }
    let total = started.elapsed();
    let text = String::from_utf8_lossy(&received);
    assert!(
        text.contains("chunk 4\n"),
        "{host}: incomplete stream: {text}"
    );
    let first = first_chunk_after.expect("chunk 0 arrived before chunk 4");
    assert!(
        total >= Duration::from_millis(1_100),
        "{host}: the stream took {total:?}"
    );
    assert!(
        first < Duration::from_millis(700),
        "{host}: the first chunk took {first:?} of {total:?}: the response was buffered"
    );
}

/// A 5 MB request body reaches the upstream intact (it comes back in the echo).
pub fn large_request_body(kind: ProxyKind) {
    let host = kind.name();
    let backend = Backend::start("b1");
    let proxy = kind.start(&MeshConfig::single(vec![], [backend.addr]));
    let body: String = (0..5_000_000)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    let response = client::post(&proxy.url("main", "/upload"), &[], body.clone());
    assert_eq!(response.status, 200, "{host}");
    let echo = response.echo();
    assert_eq!(echo.body.len(), body.len(), "{host}: body length");
    assert!(echo.body == body, "{host}: the body came back changed");
}

/// A 10 MB response arrives whole.
pub fn large_response_body(kind: ProxyKind) {
    let host = kind.name();
    let backend = Backend::start("b1");
    let proxy = kind.start(&MeshConfig::single(vec![], [backend.addr]));
    let n = 10_000_000;
    let response = client::get(&proxy.url("main", &format!("/bytes?n={n}")), &[]);
    assert_eq!(response.status, 200, "{host}");
    assert_eq!(response.body.len(), n, "{host}: body length");
    let intact = response
        .body
        .iter()
        .enumerate()
        .all(|(i, b)| *b == b'a' + (i % 26) as u8);
    assert!(intact, "{host}: the body came back changed");
}

/// A route's timeout cuts a slow upstream: 504 soon after the timeout, not when the upstream
/// finally answers.
pub fn route_timeout(kind: ProxyKind) {
    let host = kind.name();
    let backend = Backend::start("b1");
    let config = MeshConfig::new()
        .cluster(Cluster::fixed("backend", [backend.addr]))
        .listener(plain(vec![Route::prefix("/", "backend").timeout_ms(500)]));
    let proxy = kind.start(&config);
    let started = Instant::now();
    let response = client::get(&proxy.url("main", "/delay?ms=3000"), &[]);
    let took = started.elapsed();
    assert_eq!(response.status, 504, "{host}: {}", response.text());
    assert!(
        took >= Duration::from_millis(450) && took < Duration::from_millis(1_500),
        "{host}: the 504 came after {took:?}, expected ~500 ms"
    );
    // A fast request on the same route still succeeds.
    let response = client::get(&proxy.url("main", "/delay?ms=10"), &[]);
    assert_eq!(response.status, 200, "{host}");
}

/// A port nothing listens on (bound, then released).
fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding a port");
    listener.local_addr().expect("its address")
}

/// An endpoint that refuses connections gets the client a prompt 503.
pub fn connection_refused(kind: ProxyKind) {
    let host = kind.name();
    let config = MeshConfig::new()
        .cluster(Cluster::fixed("gone", [closed_port()]))
        .listener(plain(vec![Route::prefix("/", "gone")]));
    let proxy = kind.start(&config);
    let started = Instant::now();
    let response = client::get(&proxy.url("main", "/anything"), &[]);
    let took = started.elapsed();
    assert_eq!(response.status, 503, "{host}: {}", response.text());
    assert!(
        took < Duration::from_secs(2),
        "{host}: a refused connection should fail fast, took {took:?}"
    );
}

/// 50 requests, one after another on one client connection, all answered on it.
pub fn keep_alive(kind: ProxyKind) {
    let host = kind.name();
    let backend = Backend::start("b1");
    let proxy = kind.start(&MeshConfig::single(vec![], [backend.addr]));
    let mut conn = Http1Connection::connect(proxy.listener("main"), RAW_READ_TIMEOUT);
    for i in 0..50 {
        let request = format!("GET /ka/{i} HTTP/1.1\r\nhost: example.test\r\n\r\n");
        let response = conn
            .exchange(request.as_bytes())
            .unwrap_or_else(|e| panic!("{host}: request {i} on the kept-alive connection: {e}"));
        assert_eq!(response.status, 200, "{host}: request {i}");
        assert_ne!(
            response.header("connection"),
            Some("close"),
            "{host}: request {i}: the proxy closes a keep-alive connection"
        );
        let echo: crate::client::Echo = serde_json::from_slice(&response.body)
            .unwrap_or_else(|e| panic!("{host}: request {i}: not an echo: {e}"));
        assert_eq!(echo.path, format!("/ka/{i}"), "{host}");
    }
    assert_eq!(backend.requests_seen(), 50, "{host}");
}

/// Hop-by-hop headers describe the client's connection and stop at the proxy: `connection`,
/// the headers it names, `keep-alive`, `te` (other than `trailers`), `proxy-connection`.
pub fn hop_by_hop_headers_stay_behind(kind: ProxyKind) {
    let host = kind.name();
    let backend = Backend::start("b1");
    let proxy = kind.start(&MeshConfig::single(vec![], [backend.addr]));
    let mut conn = Http1Connection::connect(proxy.listener("main"), RAW_READ_TIMEOUT);
    let request = "GET /hop HTTP/1.1\r\n\
                   host: example.test\r\n\
                   connection: keep-alive, x-custom\r\n\
                   x-custom: 1\r\n\
                   keep-alive: timeout=5\r\n\
                   te: gzip\r\n\
                   proxy-connection: keep-alive\r\n\
                   x-end-to-end: kept\r\n\r\n";
    let response = conn
        .exchange(request.as_bytes())
        .unwrap_or_else(|e| panic!("{host}: {e}"));
    assert_eq!(response.status, 200, "{host}");
    let echo: crate::client::Echo =
        serde_json::from_slice(&response.body).unwrap_or_else(|e| panic!("{host}: {e}"));
    for name in ["keep-alive", "te", "proxy-connection", "x-custom"] {
        assert_eq!(echo.header(name), None, "{host}: {name} was forwarded");
    }
    // `connection` itself may be re-added by the proxy's own client, but never the client's
    // nominations.
    let connection = echo.header("connection").unwrap_or("");
    assert!(
        !connection.contains("x-custom"),
        "{host}: connection: {connection}"
    );
    assert_eq!(echo.header("x-end-to-end"), Some("kept"), "{host}");
    assert_eq!(echo.header("host"), Some("example.test"), "{host}");
}

/// `x-forwarded-for`: what each host does with the client's address.
pub fn x_forwarded_for(kind: ProxyKind) {
    let host = kind.name();
    let backend = Backend::start("b1");
    let proxy = kind.start(&MeshConfig::single(vec![], [backend.addr]));
    let fresh = client::get(&proxy.url("main", "/xff"), &[]).echo();
    let appended = client::get(
        &proxy.url("main", "/xff"),
        &[("x-forwarded-for", "203.0.113.7")],
    )
    .echo();
    match kind {
        // The rig's Envoy config leaves `use_remote_address` at false: Envoy then trusts the
        // request's `x-forwarded-for` as is and neither adds nor appends the peer address.
        ProxyKind::Envoy => {
            assert_eq!(fresh.header("x-forwarded-for"), None, "{host}");
            assert_eq!(
                appended.header("x-forwarded-for"),
                Some("203.0.113.7"),
                "{host}"
            );
        }
        // wasmesh behaves like Envoy with `use_remote_address: true`: it appends the peer.
        ProxyKind::Wasmesh => {
            assert_eq!(fresh.header("x-forwarded-for"), Some("127.0.0.1"), "{host}");
            assert_eq!(
                appended.header("x-forwarded-for"),
                Some("203.0.113.7, 127.0.0.1"),
                "{host}"
            );
        }
    }
    // Both say the client spoke plain HTTP.
    assert_eq!(fresh.header("x-forwarded-proto"), Some("http"), "{host}");
}
