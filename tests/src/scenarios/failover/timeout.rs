//! Time in the failover filter: the overall request timeout (`timeout_ms`), per-try timeouts
//! of retries, and backoff between retries. All three run on the root context's tick (a
//! stream context has no timer): the tick answers a stream whose deadline passed through
//! `proxy_set_effective_context` + `proxy_send_local_response`, and sends a retry whose backoff
//! ended.
//!
//! A hanging endpoint is a backend with a 10 s extra delay on every answer. `lb` picks first
//! tries among a subset, so each test knows where each try goes.

use std::time::{Duration, Instant};

use serde_json::json;

use super::{first_try_503, metric, split_mesh};
use crate::{client, Backend, BackendHandle, Proxy, ProxyKind};

/// Longer than any timeout of these tests.
const HANG: Duration = Duration::from_secs(10);
/// The filter's timeout header.
const TIMEOUT_HEADER: &str = "x-wasmesh-timeout";

fn hanging() -> BackendHandle {
    Backend::start("slow").with_delay(HANG)
}

/// GET `path`; the response and how long it took.
fn timed_get(url: &str) -> (client::Response, Duration) {
    let started = Instant::now();
    let response = client::Client::http1()
        .with_timeout(Duration::from_secs(20))
        .send(http::Method::GET, url, &[], bytes::Bytes::new())
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    (response, started.elapsed())
}

/// GETs `path` and asserts a 504 from `which` timeout of `ms`, after at least `ms` and well
/// before the hang, counted once in `failover_timeouts_total{reason=<which>}`.
fn assert_timeout(proxy: &Proxy, path: &str, which: &str, ms: u64) {
    let host = proxy.kind.name();
    let (response, took) = timed_get(&proxy.url("main", path));
    assert_eq!(response.status, 504, "{host}: {}", response.text());
    assert_eq!(response.header(TIMEOUT_HEADER), Some(which), "{host}");
    assert_eq!(
        response.text(),
        format!("failover: {which} timeout ({ms} ms) exceeded\n"),
        "{host}"
    );
    let ms = Duration::from_millis(ms);
    assert!(
        took >= ms - Duration::from_millis(20) && took < ms + Duration::from_secs(3),
        "{host}: the {which} timeout of {ms:?} answered after {took:?}"
    );
    let labels = [("service", "web"), ("reason", which)];
    assert_eq!(
        metric(proxy, "failover_timeouts_total", &labels),
        Some(1.0),
        "{host}"
    );
}

/// `timeout_ms` 1000: the first try gets a 503, its retry goes to an endpoint that hangs;
/// after 1 s the client gets the filter's 504 naming the request timeout (the response was
/// paused by the filter, and the tick replaces it).
pub fn request_timeout_while_a_retry_hangs(kind: ProxyKind) {
    let host = kind.name();
    let slow = hanging();
    let extra = json!({ "timeout_ms": 1000, "retry": { "per_try_timeout_ms": 15000 } });
    let (_bad, proxy) = first_try_503(kind, slow.addr, extra);
    assert_timeout(&proxy, "/hang", "request", 1000);
    assert_eq!(
        slow.requests_seen(),
        1,
        "{host}: the retry reached the hanging one"
    );
}

/// `timeout_ms` 1000 and the *first* try hangs: the client gets the filter's 504 after 1 s,
/// sent by the tick while the stream still waits for the upstream's response headers.
pub fn request_timeout_while_the_first_try_hangs(kind: ProxyKind) {
    let slow = hanging();
    let config = split_mesh(&[slow.addr], &[slow.addr], json!({ "timeout_ms": 1000 }));
    let proxy = kind.start(&config);
    assert_timeout(&proxy, "/hang", "request", 1000);
}

/// `per_try_timeout_ms` 500, one retry: the first try gets a 503, the retry hangs, and after
/// its 500 ms the client gets a 504 naming the per-try timeout.
pub fn per_try_timeout_is_named(kind: ProxyKind) {
    let slow = hanging();
    let extra = json!({ "retry": { "max_retries": 1, "per_try_timeout_ms": 500 } });
    let (_bad, proxy) = first_try_503(kind, slow.addr, extra);
    assert_timeout(&proxy, "/per-try", "per-try", 500);
}

/// Backoff 200 ms (`base_interval_ms` = `max_interval_ms`: each retry waits a uniform random
/// time in [0, 200] ms): 12 GETs, each retried once after a 503, all answer 200 from the
/// healthy backend, and their latencies show the jittered wait: mean above 40 ms (expected
/// 100; below 40 has odds under 1e-3), spread over at least 30 ms, none past 200 ms plus a
/// generous 1.5 s for a loaded machine.
pub fn retries_wait_out_their_backoff(kind: ProxyKind) {
    let host = kind.name();
    let good = Backend::start("b1");
    let backoff = json!({ "base_interval_ms": 200, "max_interval_ms": 200 });
    let (_bad, proxy) = first_try_503(kind, good.addr, json!({ "retry": { "backoff": backoff } }));
    let url = proxy.url("main", "/backoff");
    let took: Vec<Duration> = (0..12)
        .map(|i| {
            let (response, took) = timed_get(&url);
            assert_eq!(response.status, 200, "{host}: GET {i}: {}", response.text());
            assert_eq!(response.echo().backend, "b1", "{host}: GET {i}");
            took
        })
        .collect();
    let ms: Vec<u128> = took.iter().map(Duration::as_millis).collect();
    let mean = ms.iter().sum::<u128>() / ms.len() as u128;
    let (min, max) = (ms.iter().min().unwrap(), ms.iter().max().unwrap());
    eprintln!("{host}: latencies with a 0-200 ms backoff (ms): {ms:?}, mean {mean}");
    assert!(mean > 40, "{host}: mean {mean} ms: no backoff? {ms:?}");
    assert!(max - min >= 30, "{host}: no jitter: {ms:?}");
    assert!(*max < 1_700, "{host}: {ms:?}");
    assert_eq!(good.requests_seen(), 12, "{host}");
}
