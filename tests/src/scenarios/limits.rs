//! Limits that keep one client from holding the proxy's memory: how much of a body a filter may
//! hold back (`per_connection_buffer_limit_bytes`, 1 MiB by default in both hosts), and how long
//! a response may take (the route timeout covers the whole of it).

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use http::Method;

use super::abi::Abi;
use super::isolation::rss_kib;
use crate::client::{self, Client};
use crate::{poll_until, raw, Backend, Cluster, Listener, MeshConfig, ProxyKind, Route};

/// Envoy's default buffer limit, which wasmesh shares.
const LIMIT: usize = 1024 * 1024;

/// The abi-test guest's `body` case holds the whole request and response body back
/// (`StopIterationAndBuffer` until the end). Under the limit both pass; a request body over it
/// gets Envoy's `413 Payload Too Large`; a response body over it, whose head is already on its
/// way, ends in a reset stream, so the client never gets the whole body.
pub fn buffering_filter_hits_the_buffer_limit(kind: ProxyKind) {
    let host = kind.name();
    let abi = Abi::start(kind);
    let url = abi.proxy.url("main", "/upload");
    let case = [("x-abi-case", "body")];

    let small = "a".repeat(LIMIT / 2);
    let passed = client::post(&url, &case, small.clone());
    assert_eq!(passed.status, 200, "{host}: {}", passed.status);
    assert!(
        passed.text().contains(&small.to_uppercase()),
        "{host}: the filter saw the whole body"
    );

    let large = "a".repeat(LIMIT + LIMIT / 2);
    let refused = client::post(&url, &case, large);
    assert_eq!(refused.status, 413, "{host}: {}", refused.status);
    // The reply passes the filter's response callbacks, and this case appends to bodies.
    assert_eq!(refused.text(), "Payload Too Large\n-- abi", "{host}");

    let n = (LIMIT + LIMIT / 2).to_string();
    let download = format!("{}?n={n}", abi.proxy.url("main", "/bytes"));
    let cut = Client::http1().send(Method::GET, &download, &case, "");
    match cut {
        Err(_) => {}
        Ok(response) => assert!(
            response.status != 200 || response.body.len() < LIMIT + LIMIT / 2,
            "{host}: a {n}-byte response went through a filter holding it all back"
        ),
    }
    let after = client::post(&url, &case, "still serving");
    assert_eq!(after.status, 200, "{host}");
}

/// Clients in [`stalled_downloads_are_cut`].
const STALLED: usize = 4;
/// What each of them asks for and never reads.
const STALLED_BYTES: usize = 16 << 20;
/// The route timeout there.
const ROUTE_TIMEOUT: Duration = Duration::from_secs(1);

/// Which clock [`stalled_downloads_are_cut`] relies on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// The route timeout, 1 s.
    RouteTimeout,
    /// The stream idle timeout, 1 s, with the route timeout off.
    StreamIdle,
}

/// Clients that ask for a large body and do not read it: the route timeout covers the whole
/// response (Envoy documents its route timeout so), and with it off the stream idle timeout
/// still sees that nothing moves, so each stalled response is ended after 1 s and its
/// connection closed, freeing what it held; when the clients read at last they get part of the
/// body, then the end of the connection. wasmesh's route timeout once stopped at the response
/// head, and such clients held ~10 MiB each for as long as they liked.
///
/// Both hosts cut them, by either clock.
pub fn stalled_downloads_are_cut(kind: ProxyKind, by: Cut) {
    let host = kind.name();
    let backend = Backend::start("b1");
    let timeout = ROUTE_TIMEOUT.as_millis() as u64;
    let listener = match by {
        Cut::RouteTimeout => {
            Listener::new("main").route(Route::prefix("/", "backend").timeout_ms(timeout))
        }
        Cut::StreamIdle => Listener::new("main")
            .stream_idle_timeout_ms(timeout)
            .route(Route::prefix("/", "backend").timeout_ms(0)),
    };
    let config = MeshConfig::new()
        .cluster(Cluster::fixed("backend", [backend.addr]))
        .listener(listener);
    let proxy = kind.start(&config);
    let rss_before = rss_kib(&proxy);
    // `Connection: close`: an answer that is not cut (a 504 from a slow backend) ends too.
    let request =
        format!("GET /bytes?n={STALLED_BYTES} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let mut clients: Vec<TcpStream> = (0..STALLED)
        .map(|_| {
            let mut client = TcpStream::connect(proxy.listener("main")).expect("connecting");
            client.write_all(request.as_bytes()).expect("asking");
            client
        })
        .collect();
    let started = Instant::now();
    // Not reading for three timeouts: only the proxy can end these responses.
    let peak = poll_until(
        "the stalled responses to fill the buffers",
        Duration::from_secs(10),
        || {
            let rss = rss_kib(&proxy);
            if started.elapsed() >= ROUTE_TIMEOUT * 3 {
                Ok(rss)
            } else {
                Err(format!("RSS {rss} KiB"))
            }
        },
    );
    // (status, bytes received) per client; a slow backend may make some of them 504s.
    let mut received: Vec<(Option<u16>, usize)> = Vec::new();
    for client in &mut clients {
        client
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("a timeout");
        let mut head = Vec::new();
        let mut total = 0usize;
        let mut buf = vec![0u8; 1 << 20];
        let ended = loop {
            match client.read(&mut buf) {
                Ok(0) => break true,
                Ok(n) => {
                    if head.len() < 16 {
                        head.extend_from_slice(&buf[..n.min(16)]);
                    }
                    total += n;
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    break false
                }
                Err(_) => break true, // reset: ended too
            }
        };
        assert!(
            ended,
            "{host}: a stalled response was still open after {:?}",
            started.elapsed()
        );
        received.push((raw::status_code(&head), total));
    }
    let streamed: Vec<usize> = received
        .iter()
        .filter(|(status, _)| *status == Some(200))
        .map(|(_, total)| *total)
        .collect();
    assert!(
        !streamed.is_empty(),
        "{host}: no response started: {received:?}"
    );
    assert!(
        streamed.iter().all(|n| *n < STALLED_BYTES),
        "{host}: a whole {STALLED_BYTES}-byte body arrived: {received:?}"
    );
    let rss_after = rss_kib(&proxy);
    eprintln!(
        "{host}: {STALLED} clients not reading {STALLED_BYTES} bytes each, cut by {by:?} \
         after {ROUTE_TIMEOUT:?}: RSS {rss_before} KiB before, {peak} KiB after {:?} stalled, \
         {rss_after} KiB once cut; (status, bytes) each client got: {received:?}",
        ROUTE_TIMEOUT * 3
    );
}

/// [`stalled_downloads_are_cut`] by the route timeout.
pub fn stalled_downloads_are_cut_by_the_route_timeout(kind: ProxyKind) {
    stalled_downloads_are_cut(kind, Cut::RouteTimeout);
}

/// [`stalled_downloads_are_cut`] by the stream idle timeout.
pub fn stalled_downloads_are_cut_by_the_stream_idle_timeout(kind: ProxyKind) {
    stalled_downloads_are_cut(kind, Cut::StreamIdle);
}

/// How much earlier than its timeout a host's timer may fire as the client measures it: Envoy's
/// timers run on a coarse clock (it answered after 698.7 ms of a 700 ms idle timeout once).
const CLOCK_SLACK: Duration = Duration::from_millis(50);

/// With the route timeout off, the stream idle timeout ends a stream on which nothing moves:
/// a backend that takes longer than it to answer gets Envoy's `504 stream timeout`; a client
/// that stops sending its body half-way gets `408 stream timeout`.
pub fn silent_streams_meet_the_stream_idle_timeout(kind: ProxyKind) {
    let host = kind.name();
    let backend = Backend::start("silent").with_delay(Duration::from_secs(4));
    let idle = Duration::from_millis(700);
    let config = MeshConfig::new()
        .cluster(Cluster::fixed("backend", [backend.addr]))
        .listener(
            Listener::new("main")
                .stream_idle_timeout_ms(idle.as_millis() as u64)
                .route(Route::prefix("/", "backend").timeout_ms(0)),
        );
    let proxy = kind.start(&config);
    let started = Instant::now();
    let response = client::get(&proxy.url("main", "/silent"), &[]);
    let took = started.elapsed();
    assert_eq!(response.status, 504, "{host}: {}", response.text());
    assert_eq!(response.text(), "stream timeout", "{host}");
    assert!(
        took + CLOCK_SLACK >= idle && took < Duration::from_secs(3),
        "{host}: answered after {took:?}"
    );

    let half = b"POST /upload HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n0123456789";
    let started = Instant::now();
    let answer = raw::exchange(proxy.listener("main"), half, Duration::from_secs(3));
    let took = started.elapsed();
    assert_eq!(
        raw::status_code(&answer),
        Some(408),
        "{host}: {}",
        String::from_utf8_lossy(&answer)
    );
    assert!(
        String::from_utf8_lossy(&answer).ends_with("stream timeout"),
        "{host}: {}",
        String::from_utf8_lossy(&answer)
    );
    assert!(
        took + CLOCK_SLACK >= idle,
        "{host}: answered after {took:?}"
    );
}
