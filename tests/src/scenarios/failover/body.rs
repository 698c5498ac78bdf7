//! Request bodies and retries: a configured POST is retried with its body replayed (kept as
//! it streamed through, up to `retry.max_body_bytes`); a body over the limit is not retried.
//!
//! `lb` sends every first try to the 503 upstream; `failover` retries on the healthy backend,
//! so each test knows where each try went.

use serde_json::json;

use super::{first_try_503, metric, retries};
use crate::{client, Backend, ProxyKind};

/// A body of `n` bytes that is not one repeated byte, so a truncated or reordered replay
/// shows.
fn body(n: usize) -> String {
    (0..n).map(|i| char::from(b'a' + (i % 23) as u8)).collect()
}

/// POST allowed in `retry.methods`: a 20 000-byte POST (several chunks) that hits the 503 is
/// retried on the healthy backend, which answers 200 and echoes exactly the body the client
/// sent; the 503 upstream saw it once, the healthy one once.
pub fn configured_post_is_retried_with_its_body(kind: ProxyKind) {
    let host = kind.name();
    let good = Backend::start("b1");
    let extra = json!({ "retry": { "methods": ["GET", "POST"] } });
    let (bad, proxy) = first_try_503(kind, good.addr, extra);
    let sent = body(20_000);
    let response = client::post(&proxy.url("main", "/order"), &[], sent.clone());
    assert_eq!(response.status, 200, "{host}: {}", response.text());
    let echo = response.echo();
    assert_eq!(echo.backend, "b1", "{host}");
    assert_eq!(echo.method, "POST", "{host}");
    assert!(
        echo.body == sent,
        "{host}: the retry's body differs: {} bytes echoed, {} sent",
        echo.body.len(),
        sent.len()
    );
    assert_eq!((bad.requests(), good.requests_seen()), (1, 1), "{host}");
    assert_eq!(retries(&proxy), 1.0, "{host}");
}

/// `retry.max_body_bytes` 1024: a 2 000-byte POST that hits the 503 is not retried; the
/// client gets the 503, the healthy backend sees nothing, and
/// `failover_not_retried_total{reason="body_too_large"}` counts it. A 1 000-byte one is
/// retried.
pub fn oversized_body_is_not_retried(kind: ProxyKind) {
    let host = kind.name();
    let good = Backend::start("b1");
    let extra = json!({ "retry": { "methods": ["POST"], "max_body_bytes": 1024 } });
    let (_bad, proxy) = first_try_503(kind, good.addr, extra);
    let url = proxy.url("main", "/upload");
    let response = client::post(&url, &[], body(2_000));
    assert_eq!(response.status, 503, "{host}: {}", response.text());
    assert_eq!(response.text(), "bad\n", "{host}: the upstream's own 503");
    assert_eq!(good.requests_seen(), 0, "{host}: no retry");
    let reason = [("service", "web"), ("reason", "body_too_large")];
    assert_eq!(
        metric(&proxy, "failover_not_retried_total", &reason),
        Some(1.0),
        "{host}"
    );
    assert_eq!(retries(&proxy), 0.0, "{host}");
    let small = client::post(&url, &[], body(1_000));
    assert_eq!(
        small.status,
        200,
        "{host}: under the limit: {}",
        small.text()
    );
    assert_eq!(small.echo().body.len(), 1_000, "{host}");
}
