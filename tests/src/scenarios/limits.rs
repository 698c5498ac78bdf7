//! Limits that keep one client from holding the proxy's memory: here, how much of a body a
//! filter may hold back (`per_connection_buffer_limit_bytes`, 1 MiB by default in both hosts).

use http::Method;

use super::abi::Abi;
use crate::client::{self, Client};
use crate::ProxyKind;

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
