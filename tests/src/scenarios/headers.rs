//! The `headers` filter (`filters/headers`): add / set / remove on requests and responses.
//!
//! Semantics under test (from `wasmesh_common::headers`): per direction, `remove` then `set`
//! (replace) then `add` (append alongside an existing value).

use serde_json::{json, Value};

use crate::client::{self, Client, Response};
use crate::{build_filters, Backend, MeshConfig, Plugin, ProxyKind};

/// The configuration every scenario here uses, so one request checks all three operations.
fn configuration() -> Value {
    json!({
        "request": {
            "add": { "x-added": "req-added", "x-multi": "second" },
            "set": { "x-set": "req-set" },
            "remove": ["x-remove-me"],
        },
        "response": {
            "add": { "x-resp-added": "resp-added" },
            "set": { "content-type": "text/x-wasmesh" },
            "remove": ["x-backend"],
        },
    })
}

/// The request headers a client sends, chosen to meet each mutation.
const REQUEST_HEADERS: [(&str, &str); 4] = [
    ("x-set", "client-value"),
    ("x-remove-me", "should-not-arrive"),
    ("x-multi", "first"),
    ("x-untouched", "kept"),
];

/// `kind` with the headers filter in front of one backend.
fn setup(kind: ProxyKind, configuration: Value) -> (crate::Proxy, crate::BackendHandle) {
    let filters = build_filters();
    let backend = Backend::start("b1");
    let plugin = Plugin::new("headers", &filters.headers).configuration(configuration);
    let proxy = kind.start(&MeshConfig::single(vec![plugin], [backend.addr]));
    (proxy, backend)
}

/// Asserts every configured mutation on one response from the filter's listener.
fn assert_mutated(kind: ProxyKind, response: &Response) {
    let host = kind.name();
    assert_eq!(response.status, 200, "{host}: {}", response.text());
    let echo = response.echo();
    assert_eq!(echo.backend, "b1", "{host}");
    assert_eq!(echo.path, "/hello?q=1", "{host}");
    // What the backend saw: the request mutations.
    assert_eq!(echo.header("x-added"), Some("req-added"), "{host}: add");
    assert_eq!(
        echo.header("x-set"),
        Some("req-set"),
        "{host}: set replaces"
    );
    assert_eq!(echo.header("x-remove-me"), None, "{host}: remove");
    assert_eq!(
        echo.header("x-multi"),
        Some("first, second"),
        "{host}: add keeps the existing value"
    );
    assert_eq!(echo.header("x-untouched"), Some("kept"), "{host}");
    // What the client saw: the response mutations.
    assert_eq!(
        response.header("x-resp-added"),
        Some("resp-added"),
        "{host}"
    );
    assert_eq!(
        response.header("content-type"),
        Some("text/x-wasmesh"),
        "{host}"
    );
    assert_eq!(response.header("x-backend"), None, "{host}: remove");
}

/// One request over HTTP/1.1: every mutation shows, on both sides of the proxy.
pub fn add_set_remove(kind: ProxyKind) {
    let (proxy, backend) = setup(kind, configuration());
    let response = client::get(&proxy.url("main", "/hello?q=1"), &REQUEST_HEADERS);
    assert_mutated(kind, &response);
    assert_eq!(backend.requests_seen(), 1, "{}", kind.name());
}

/// Several requests on one kept-alive connection: each stream gets its own mutations (no state
/// leaks from one stream context to the next).
pub fn every_request_on_a_connection(kind: ProxyKind) {
    let (proxy, backend) = setup(kind, configuration());
    let client = Client::http1();
    for _ in 0..5 {
        let response = client.get(&proxy.url("main", "/hello?q=1"), &REQUEST_HEADERS);
        assert_mutated(kind, &response);
    }
    assert_eq!(backend.requests_seen(), 5, "{}", kind.name());
}

/// The same over h2c from the client: header maps behave the same whatever the downstream codec.
pub fn over_http2(kind: ProxyKind) {
    let (proxy, _backend) = setup(kind, configuration());
    let response = Client::http2().get(&proxy.url("main", "/hello?q=1"), &REQUEST_HEADERS);
    assert_eq!(response.version, http::Version::HTTP_2, "{}", kind.name());
    assert_mutated(kind, &response);
}

/// A request body passes through untouched while headers are mutated.
pub fn body_passes_through(kind: ProxyKind) {
    let (proxy, _backend) = setup(kind, configuration());
    let body = "x".repeat(100_000);
    let response = client::post(&proxy.url("main", "/upload"), &[], body.clone());
    assert_eq!(response.status, 200, "{}", kind.name());
    let echo = response.echo();
    assert_eq!(echo.method, "POST");
    assert_eq!(echo.body.len(), body.len(), "{}", kind.name());
    assert_eq!(echo.header("x-added"), Some("req-added"), "{}", kind.name());
}

/// An invalid configuration (a header name with a space) makes the plugin refuse to start in
/// `on_configure`; with `fail_open: false` the host must refuse the whole configuration, as
/// Envoy does, rather than serve traffic without the filter.
pub fn rejects_invalid_configuration(kind: ProxyKind) {
    let filters = build_filters();
    let backend = Backend::start("b1");
    let plugin = Plugin::new("headers", &filters.headers)
        .configuration(json!({ "request": { "add": { "bad name": "v" } } }));
    let config = MeshConfig::single(vec![plugin], [backend.addr]);
    match kind.try_start(&config) {
        Ok(proxy) => panic!(
            "{} started with an invalid plugin configuration:\n{}",
            kind.name(),
            proxy.logs()
        ),
        Err(logs) => assert!(
            logs.contains("bad name"),
            "{}: the error should name the offending field:\n{logs}",
            kind.name()
        ),
    }
    assert_eq!(backend.requests_seen(), 0);
}
