//! What keeps a flood of clients or a slow cluster from taking the proxy's connections without
//! end: a listener's connection limit, and a cluster's circuit breakers (Envoy's thresholds,
//! same names in both hosts), which answer 503 with `x-envoy-overloaded: true` at once instead
//! of letting requests queue.

use std::net::SocketAddr;
use std::thread;
use std::time::Duration;

use crate::client::{Client, Response};
use crate::raw::Http1Connection;
use crate::{
    poll_until, Backend, CircuitBreakers, Cluster, Listener, MeshConfig, ProxyKind, Route,
};

/// A keep-alive request whose answer leaves the connection open.
const GET: &[u8] = b"GET /held HTTP/1.1\r\nhost: overload.test\r\n\r\n";

/// `max_connections: 2` on the listener: two clients hold their connections open; a third is
/// closed without an answer; once one of the two leaves, new connections are served again.
pub fn listener_connection_limit(kind: ProxyKind) {
    let host = kind.name();
    let backend = Backend::start("b1");
    let config = MeshConfig::new()
        .cluster(Cluster::fixed("backend", [backend.addr]))
        .listener(
            Listener::new("main")
                .max_connections(2)
                .route(Route::prefix("/", "backend")),
        );
    let proxy = kind.start(&config);
    let addr = proxy.listener("main");
    let read_timeout = Duration::from_secs(5);
    let mut held: Vec<Http1Connection> = (0..2)
        .map(|_| Http1Connection::connect(addr, read_timeout))
        .collect();
    for connection in &mut held {
        let answer = connection.exchange(GET);
        assert_eq!(answer.map(|r| r.status), Ok(200), "{host}: held connection");
    }

    let mut third = Http1Connection::connect(addr, read_timeout);
    let refused = third.exchange(GET);
    assert!(
        refused.is_err(),
        "{host}: a third connection was served past max_connections: {refused:?}"
    );
    // The held ones are untouched.
    let again = held[0].exchange(GET);
    assert_eq!(again.map(|r| r.status), Ok(200), "{host}");

    drop(held.pop());
    let wait = Duration::from_secs(10);
    poll_until(
        "a new connection to be served once one closed",
        wait,
        || match Http1Connection::connect(addr, read_timeout).exchange(GET) {
            Ok(r) if r.status == 200 => Ok(()),
            other => Err(format!("{other:?}")),
        },
    );
    if kind == ProxyKind::Wasmesh {
        let metrics = proxy.admin_get("/metrics").text();
        assert!(
            counter(
                &metrics,
                "wasmesh_listener_connections_overflow_total{listener=\"main\"}"
            ) >= 1,
            "{metrics}"
        );
    }
}

/// How long the backend takes to answer in [`circuit_breakers_answer_503_at_once`].
const SLOW: Duration = Duration::from_millis(1500);
/// Time between starting one request and the next, so they reach the proxy in order.
const STAGGER: Duration = Duration::from_millis(300);

/// Two clusters on one slow backend. `pending` allows one connection and one pending request:
/// of three requests, the first is served, the second waits for its connection and is served
/// after it, the third gets 503 at once. `outstanding` allows two requests in flight: the third
/// of three gets 503 at once. Envoy answers the same, body, details and header included.
pub fn circuit_breakers_answer_503_at_once(kind: ProxyKind) {
    let host = kind.name();
    let backend = Backend::start("slow").with_delay(SLOW);
    let thresholds = |connections, pending, requests| CircuitBreakers {
        max_connections: connections,
        max_pending_requests: pending,
        max_requests: requests,
    };
    let config = MeshConfig::new()
        .cluster(Cluster::fixed("pending", [backend.addr]).circuit_breakers(thresholds(1, 1, 100)))
        .cluster(
            Cluster::fixed("outstanding", [backend.addr]).circuit_breakers(thresholds(100, 100, 2)),
        )
        .listener(
            Listener::new("main")
                .route(Route::prefix("/pending", "pending"))
                .route(Route::prefix("/outstanding", "outstanding")),
        );
    let proxy = kind.start(&config);
    for path in ["/pending", "/outstanding"] {
        let answers = staggered(proxy.listener("main"), path, 3);
        let statuses: Vec<u16> = answers.iter().map(|(r, _)| r.status.as_u16()).collect();
        assert_eq!(statuses, [200, 200, 503], "{host} {path}");
        let (overflowed, took) = &answers[2];
        assert!(
            *took < SLOW,
            "{host} {path}: the overflow took {took:?}, as if it had waited"
        );
        assert_eq!(
            overflowed.text(),
            "upstream connect error or disconnect/reset before headers. reset reason: overflow",
            "{host} {path}"
        );
        assert_eq!(
            overflowed.header("x-envoy-overloaded"),
            Some("true"),
            "{host} {path}"
        );
    }
    if kind == ProxyKind::Wasmesh {
        let metrics = proxy.admin_get("/metrics").text();
        let pending = "wasmesh_upstream_rq_pending_overflow_total{cluster=\"pending\"}";
        let outstanding = "wasmesh_upstream_rq_overflow_total{cluster=\"outstanding\"}";
        let waited = "wasmesh_upstream_cx_overflow_total{cluster=\"pending\"}";
        assert_eq!(counter(&metrics, pending), 1, "{metrics}");
        assert_eq!(counter(&metrics, outstanding), 1, "{metrics}");
        assert!(counter(&metrics, waited) >= 1, "{metrics}");
    }
    let after = Client::http1_unpooled().get(&proxy.url("main", "/outstanding"), &[]);
    assert_eq!(after.status, 200, "{host}: the breakers close again");
}

/// `n` requests to `path`, each on its own connection, started [`STAGGER`] apart; their
/// answers in the order sent, with how long each took.
fn staggered(addr: SocketAddr, path: &str, n: usize) -> Vec<(Response, Duration)> {
    let url = format!("http://{addr}{path}");
    let threads: Vec<_> = (0..n)
        .map(|i| {
            let url = url.clone();
            thread::sleep(if i == 0 { Duration::ZERO } else { STAGGER });
            thread::spawn(move || {
                let started = std::time::Instant::now();
                let response = Client::http1_unpooled().get(&url, &[]);
                (response, started.elapsed())
            })
        })
        .collect();
    threads
        .into_iter()
        .map(|t| t.join().expect("a request thread"))
        .collect()
}

/// The value of the sample `series` (name and labels, as written) in a Prometheus text page.
fn counter(metrics: &str, series: &str) -> u64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or(0)
}
