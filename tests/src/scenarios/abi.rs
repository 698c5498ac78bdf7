//! The ABI exerciser guest (`tests/guests/abi-test`): one scenario per case of its README, each
//! sending the documented request and asserting what the client (and the echo backend) sees.
//!
//! The assertions are the same for both hosts except where the README says hosts legitimately
//! differ (the log level). Host-specific values (ports, ids, times, header counts) are checked
//! for shape, not value. The gRPC cases that reach a real server are in `super::grpc`.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::Method;
use serde_json::{json, Value};

use crate::client::{self, Response};
use crate::{
    build_filters, poll_until, Backend, BackendHandle, Cluster, Listener, MeshConfig, Plugin,
    Proxy, ProxyKind, Route,
};

/// Plugin name both hosts get.
pub const PLUGIN: &str = "abi";
/// Root id.
pub const ROOT_ID: &str = "abi-root";
/// VM id.
pub const VM_ID: &str = "abi-vm";
/// Plugin configuration (a plain string).
pub const PLUGIN_CONFIG: &str = "abi-plugin-config";
/// VM configuration (a plain string).
pub const VM_CONFIG: &str = "abi-vm-config";
/// The cluster the http-call cases name in `x-abi-upstream` (same name in both hosts).
pub const CALL_CLUSTER: &str = "echo";
/// The backend's name (its `x-backend`).
pub const BACKEND: &str = "b1";
/// How long asynchronous effects (ticks, queue callbacks, admin counters, logs) may take.
const ASYNC_DEADLINE: Duration = Duration::from_secs(10);

/// A running host with the abi-test guest in front of the echo backend.
pub struct Abi {
    /// Which host.
    pub kind: ProxyKind,
    /// The running host.
    pub proxy: Proxy,
    /// The echo backend (route cluster `backend` and call cluster [`CALL_CLUSTER`]).
    pub backend: BackendHandle,
}

impl Abi {
    /// Starts `kind` with the guest on listener `main`.
    pub fn start(kind: ProxyKind) -> Self {
        Self::start_with(kind, Vec::new())
    }

    /// Starts `kind` with the guest on listener `main` and `clusters` besides the echo ones.
    pub fn start_with(kind: ProxyKind, clusters: Vec<Cluster>) -> Self {
        let filters = build_filters();
        let backend = Backend::start(BACKEND);
        let plugin = Plugin::new(PLUGIN, &filters.abi_test)
            .root_id(ROOT_ID)
            .vm_id(VM_ID)
            .configuration(json!(PLUGIN_CONFIG))
            .vm_config(json!(VM_CONFIG));
        let mut config = MeshConfig::new()
            .plugin(plugin)
            .cluster(Cluster::fixed("backend", [backend.addr]))
            .cluster(Cluster::fixed(CALL_CLUSTER, [backend.addr]));
        for cluster in clusters {
            config = config.cluster(cluster);
        }
        let config = config.listener(
            Listener::new("main")
                .filter(PLUGIN)
                .route(Route::prefix("/", "backend")),
        );
        let proxy = kind.start(&config);
        Self {
            kind,
            proxy,
            backend,
        }
    }

    fn host(&self) -> &'static str {
        self.kind.name()
    }

    /// The listener's address.
    pub fn listener(&self) -> SocketAddr {
        self.proxy.listener("main")
    }

    /// `GET path` with `x-abi-case: case` plus `headers`.
    pub fn get(&self, case: &str, path: &str, headers: &[(&str, &str)]) -> Response {
        let mut all = vec![("x-abi-case", case)];
        all.extend_from_slice(headers);
        client::get(&self.proxy.url("main", path), &all)
    }

    /// `POST path` with `x-abi-case: case`, `headers` and `body`.
    pub fn post(&self, case: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Response {
        let mut all = vec![("x-abi-case", case)];
        all.extend_from_slice(headers);
        client::post(&self.proxy.url("main", path), &all, body.to_string())
    }

    /// A JSON local reply of `case`: checks status 200 and the reply conventions, returns the
    /// parsed body.
    pub fn json_case(&self, case: &str, path: &str, headers: &[(&str, &str)]) -> Value {
        let response = self.get(case, path, headers);
        self.assert_json_reply(case, 200, &response)
    }

    fn assert_json_reply(&self, case: &str, status: u16, response: &Response) -> Value {
        let host = self.host();
        assert_eq!(
            response.status,
            status,
            "{host}: {case}: {}",
            response.text()
        );
        assert_eq!(
            response.header("content-type"),
            Some("application/json"),
            "{host}: {case}"
        );
        assert!(
            response.body.ends_with(b"\n"),
            "{host}: {case}: body ends with a newline: {:?}",
            response.text()
        );
        response.json()
    }
}

fn header<'a>(kind: ProxyKind, response: &'a Response, name: &str) -> &'a str {
    response.header(name).unwrap_or_else(|| {
        panic!(
            "{}: response lacks {name}; headers {:?}, body {}",
            kind.name(),
            response.headers,
            response.text()
        )
    })
}

fn parse_u64(kind: ProxyKind, what: &str, text: &str) -> u64 {
    text.parse()
        .unwrap_or_else(|e| panic!("{}: {what} = {text:?} is not a number: {e}", kind.name()))
}

fn now_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_nanos()
}

/// A fresh suffix for shared-data keys and queue nonces.
fn nonce() -> String {
    format!("{}-{}", std::process::id(), now_ns())
}

/// Without `x-abi-case` the request passes through, with the marker `none`.
pub fn passthrough(kind: ProxyKind) {
    let abi = Abi::start(kind);
    let response = client::get(&abi.proxy.url("main", "/plain?a=1"), &[]);
    assert_eq!(response.status, 200, "{kind:?}: {}", response.text());
    let echo = response.echo();
    assert_eq!(echo.path, "/plain?a=1", "{kind:?}");
    assert_eq!(response.header("x-backend"), Some(BACKEND), "{kind:?}");
    assert_eq!(
        response.header("x-abi-response-seen"),
        Some("none"),
        "{kind:?}"
    );
    assert_eq!(abi.backend.requests_seen(), 1, "{kind:?}");
}

/// An unknown case gets a 400 JSON reply listing the known ones.
pub fn unknown_case(kind: ProxyKind) {
    let abi = Abi::start(kind);
    let response = abi.get("no-such-case", "/", &[]);
    let body = abi.assert_json_reply("no-such-case", 400, &response);
    assert_eq!(body["error"], "unknown x-abi-case", "{kind:?}: {body}");
    assert_eq!(body["case"], "no-such-case", "{kind:?}: {body}");
    let known = body["known"].as_array().expect("known is an array");
    for case in ["log", "headers", "http-call", "grpc", "done", "metrics"] {
        assert!(known.contains(&json!(case)), "{kind:?}: {case} in {body}");
    }
    assert_eq!(abi.backend.requests_seen(), 0, "{kind:?}");
}

/// `log`: every level logs `Ok`; the log level is host-dependent but must be a level, the same
/// in header and body (Envoy: its `wasm` component's default, info = 2); the lines reach the
/// host's log.
pub fn log(kind: ProxyKind) {
    let abi = Abi::start(kind);
    let response = abi.get("log", "/", &[]);
    let body = abi.assert_json_reply("log", 200, &response);
    assert_eq!(response.header("x-abi-case"), Some("log"), "{kind:?}");
    assert_eq!(body["get_log_level"], "Ok", "{kind:?}: {body}");
    let level = body["log_level"].as_u64().expect("log_level is a number");
    assert_eq!(
        header(kind, &response, "x-abi-log-level"),
        level.to_string(),
        "{kind:?}"
    );
    match kind {
        ProxyKind::Envoy => assert_eq!(level, 2, "envoy: wasm component at info"),
        ProxyKind::Wasmesh => assert!(level <= 6, "wasmesh: log level {level}"),
    }
    let levels = ["trace", "debug", "info", "warn", "error", "critical"];
    for level in levels {
        assert_eq!(body["logged"][level], "Ok", "{kind:?}: {level}: {body}");
    }
    poll_until(
        "the log case's lines in the host log",
        ASYNC_DEADLINE,
        || {
            let logs = abi.proxy.logs();
            // Envoy's prefix: plugin name, root id, VM id.
            let prefixed = format!("wasm log {PLUGIN} {ROOT_ID} {VM_ID}: abi-test log warn");
            for needle in [
                prefixed.as_str(),
                "abi-test log warn",
                "abi-test log error",
                "abi-test log critical",
                "abi-test: on_log context=",
                "case=log",
            ] {
                if !logs.contains(needle) {
                    return Err(format!("no {needle:?} in the log yet"));
                }
            }
            Ok(())
        },
    );
}

/// `headers`: get / add / replace / remove on request and response headers.
pub fn headers(kind: ProxyKind) {
    let abi = Abi::start(kind);
    let response = abi.get(
        "headers",
        "/h?q=1",
        &[
            ("x-abi-get", "hello"),
            ("x-abi-replace", "old"),
            ("x-abi-remove", "x"),
            ("x-abi-multi", "a"),
        ],
    );
    assert_eq!(response.status, 200, "{kind:?}: {}", response.text());
    let echo = response.echo();
    let expected = [
        ("x-abi-added", Some("1")),
        ("x-abi-multi", Some("a, b")),
        ("x-abi-replace", Some("new")),
        ("x-abi-replace-created", Some("created")),
        ("x-abi-remove", None),
        ("x-abi-got", Some("hello")),
        ("x-abi-got-missing", Some("<absent>")),
        ("x-abi-method", Some("GET")),
        ("x-abi-path", Some("/h?q=1")),
    ];
    for (name, value) in expected {
        assert_eq!(echo.header(name), value, "{kind:?}: upstream {name}");
    }
    let authority = format!("127.0.0.1:{}", abi.listener().port());
    assert_eq!(
        echo.header("x-abi-authority"),
        Some(authority.as_str()),
        "{kind:?}"
    );
    let count = echo.header("x-abi-req-count").expect("x-abi-req-count");
    let count = parse_u64(kind, "x-abi-req-count", count);
    assert!(
        count >= 9,
        "{kind:?}: at least the client's headers: {count}"
    );
    assert_eq!(
        echo.header("x-abi-num-headers")
            .map(|v| parse_u64(kind, "num", v)),
        Some(count),
        "{kind:?}: num_headers equals the pairs read"
    );
    assert_eq!(
        echo.header("x-abi-map-size"),
        Some("sum-of-lengths"),
        "{kind:?}: proxy_get_header_map_size"
    );
    // Response side.
    assert_eq!(response.header("x-abi-resp"), Some("1"), "{kind:?}");
    assert_eq!(response.header("x-backend"), Some("replaced"), "{kind:?}");
    assert_eq!(response.header("content-type"), None, "{kind:?}");
    assert_eq!(
        response.header("x-abi-resp-status"),
        Some("200"),
        "{kind:?}"
    );
    parse_u64(
        kind,
        "response x-abi-req-count",
        header(kind, &response, "x-abi-req-count"),
    );
    assert_eq!(
        response.header("x-abi-response-seen"),
        Some("headers"),
        "{kind:?}"
    );
}

/// `headers-set-all`: whole header maps replaced in both directions.
pub fn headers_set_all(kind: ProxyKind) {
    let abi = Abi::start(kind);
    let response = abi.get(
        "headers-set-all",
        "/s",
        &[("x-abi-drop", "x"), ("x-abi-keep", "y")],
    );
    assert_eq!(response.status, 200, "{kind:?}: {}", response.text());
    let echo = response.echo();
    assert_eq!(echo.method, "GET", "{kind:?}");
    assert_eq!(echo.path, "/s", "{kind:?}");
    assert_eq!(echo.header("x-abi-keep"), Some("y"), "{kind:?}");
    assert_eq!(echo.header("x-abi-set-all"), Some("1"), "{kind:?}");
    assert_eq!(echo.header("x-abi-drop"), None, "{kind:?}");
    assert_eq!(response.header("x-abi-resp-set-all"), Some("1"), "{kind:?}");
    assert_eq!(response.header("x-backend"), None, "{kind:?}");
    parse_u64(
        kind,
        "x-abi-req-count",
        header(kind, &response, "x-abi-req-count"),
    );
}

fn assert_trailer_report(
    kind: ProxyKind,
    response: &Response,
    count: &str,
    value: &str,
    add: &str,
) {
    assert_eq!(response.status, 200, "{kind:?}: {}", response.text());
    assert_eq!(
        response.header("x-abi-req-trailers"),
        Some(count),
        "{kind:?}"
    );
    assert_eq!(
        response.header("x-abi-req-trailer"),
        Some(value),
        "{kind:?}"
    );
    assert_eq!(
        response.header("x-abi-req-trailer-add"),
        Some(add),
        "{kind:?}"
    );
}

/// `trailers` over HTTP/1.1: with a body the filter adds a request trailer at end of stream
/// (`Ok`); without one it is never called; response trailers are not sent on HTTP/1.1.
pub fn trailers_http1(kind: ProxyKind) {
    let abi = Abi::start(kind);
    let response = abi.post("trailers", "/t", &[], "hello");
    assert_trailer_report(kind, &response, "none", "<absent>", "Ok");
    let echo = response.echo();
    assert_eq!(echo.body, "hello", "{kind:?}");
    assert_eq!(echo.header("x-abi-added-trailer"), None, "{kind:?}");
    let response = abi.get("trailers", "/t", &[]);
    assert_trailer_report(kind, &response, "none", "<absent>", "not-called");
}

/// `trailers` over h2 without client trailers: the response trailer the filter adds at the
/// end of the response body reaches the client.
pub fn trailers_http2(kind: ProxyKind) {
    let abi = Abi::start(kind);
    let (response, trailers) = client::h2_with_trailers(
        Method::POST,
        &abi.proxy.url("main", "/t"),
        &[("x-abi-case", "trailers")],
        "hello",
        &[],
    )
    .unwrap_or_else(|e| panic!("{kind:?}: h2 POST: {e}"));
    assert_trailer_report(kind, &response, "none", "<absent>", "Ok");
    assert_eq!(response.echo().body, "hello", "{kind:?}");
    let trailers = trailers.unwrap_or_else(|| panic!("{kind:?}: no response trailers"));
    assert_eq!(
        trailers
            .get("x-abi-resp-trailer")
            .and_then(|v| v.to_str().ok()),
        Some("1"),
        "{kind:?}: {trailers:?}"
    );
}

/// `trailers` over h2 with client trailers: `on_request_trailers` reads them.
pub fn trailers_from_client(kind: ProxyKind) {
    let abi = Abi::start(kind);
    let (response, _) = client::h2_with_trailers(
        Method::POST,
        &abi.proxy.url("main", "/t"),
        &[("x-abi-case", "trailers")],
        "hello",
        &[("x-abi-trailer", "v"), ("x-abi-trailer-remove", "x")],
    )
    .unwrap_or_else(|e| panic!("{kind:?}: h2 POST: {e}"));
    assert_trailer_report(kind, &response, "2", "v", "not-called");
    assert_eq!(response.echo().body, "hello", "{kind:?}");
}

/// `local-reply` from request headers: passes through the response callbacks (marker).
pub fn local_reply(kind: ProxyKind) {
    let abi = Abi::start(kind);
    let response = abi.get("local-reply", "/", &[]);
    assert_eq!(response.status, 418, "{kind:?}");
    assert_eq!(response.header("x-abi"), Some("local"), "{kind:?}");
    assert_eq!(response.text(), "teapot\n", "{kind:?}");
    assert_eq!(
        response.header("x-abi-response-seen"),
        Some("local-reply"),
        "{kind:?}"
    );
    assert_eq!(
        response.header("content-type"),
        Some("text/plain"),
        "{kind:?}"
    );
    assert_eq!(response.header("content-length"), Some("7"), "{kind:?}");
    // What the response callbacks saw of the reply's head (Envoy 1.40's, header by header).
    assert_eq!(
        response.header("x-abi-reply-head"),
        Some(":status=418,x-abi=local,content-length=7,content-type=text/plain"),
        "{kind:?}"
    );
    assert_eq!(abi.backend.requests_seen(), 0, "{kind:?}");
}

/// `local-reply-in-response`: replaces the upstream's response, bypassing the filter.
pub fn local_reply_in_response(kind: ProxyKind) {
    let abi = Abi::start(kind);
    let response = abi.get("local-reply-in-response", "/", &[]);
    assert_eq!(response.status, 418, "{kind:?}");
    assert_eq!(response.header("x-abi"), Some("local-response"), "{kind:?}");
    assert_eq!(response.text(), "teapot from response\n", "{kind:?}");
    assert_eq!(response.header("x-backend"), None, "{kind:?}");
    assert_eq!(response.header("x-abi-response-seen"), None, "{kind:?}");
    assert_eq!(abi.backend.requests_seen(), 1, "{kind:?}");
}

/// `grpc-local-reply`: a gRPC error reply (with the gRPC content type) and its plain fallback.
pub fn grpc_local_reply(kind: ProxyKind) {
    let abi = Abi::start(kind);
    let response = abi.get(
        "grpc-local-reply",
        "/",
        &[("content-type", "application/grpc")],
    );
    assert_eq!(response.status, 200, "{kind:?}");
    let expected = [
        ("content-type", "application/grpc"),
        ("grpc-status", "14"),
        ("grpc-message", "abi-grpc"),
        ("x-abi", "grpc"),
        ("x-abi-response-seen", "grpc-local-reply"),
    ];
    let seen: Vec<_> = expected
        .iter()
        .map(|(name, _)| (*name, response.header(name)))
        .collect();
    let expected: Vec<_> = expected.iter().map(|(n, v)| (*n, Some(*v))).collect();
    assert_eq!(seen, expected, "{kind:?}: {:?}", response.text());
    assert!(response.body.is_empty(), "{kind:?}: {:?}", response.text());
    let response = abi.get("grpc-local-reply", "/", &[]);
    assert_eq!(response.status, 200, "{kind:?}");
    assert_eq!(response.text(), "abi-grpc", "{kind:?}");
    assert_eq!(
        response.header("content-type"),
        Some("text/plain"),
        "{kind:?}"
    );
    assert_eq!(abi.backend.requests_seen(), 0, "{kind:?}");
}

/// `properties`: Envoy's property paths and encodings, and a custom property round trip.
pub fn properties(kind: ProxyKind) {
    let abi = Abi::start(kind);
    let body = abi.json_case("properties", "/props/x?y=1", &[]);
    let values = &body["values"];
    let listener = abi.listener();
    let authority = format!("127.0.0.1:{}", listener.port());
    let expected = [
        ("request.path", json!("/props/x?y=1")),
        ("request.url_path", json!("/props/x")),
        ("request.host", json!(authority)),
        ("request.scheme", json!("http")),
        ("request.method", json!("GET")),
        ("request.protocol", json!("HTTP/1.1")),
        ("request.headers.x-abi-case", json!("properties")),
        ("destination.address", json!(authority)),
        ("destination.port", json!(listener.port())),
        ("connection.mtls", json!(false)),
        ("plugin_name", json!(PLUGIN)),
        ("plugin_root_id", json!(ROOT_ID)),
        ("plugin_vm_id", json!(VM_ID)),
        ("abi_no_such_property", Value::Null),
    ];
    for (name, value) in expected {
        assert_eq!(values[name], value, "{kind:?}: {name}: {body}");
    }
    assert_eq!(body["hex"]["connection.mtls"], "00", "{kind:?}: {body}");
    let source = values["source.address"]
        .as_str()
        .unwrap_or_else(|| panic!("{kind:?}: source.address: {body}"));
    let source: SocketAddr = source
        .parse()
        .unwrap_or_else(|e| panic!("{kind:?}: source.address {source:?}: {e}"));
    assert_eq!(source.ip().to_string(), "127.0.0.1", "{kind:?}");
    assert_ne!(source.port(), 0, "{kind:?}");
    assert_eq!(
        values["source.port"],
        json!(source.port()),
        "{kind:?}: {body}"
    );
    let port_hex: String = (source.port() as i64)
        .to_le_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(body["hex"]["source.port"], port_hex, "{kind:?}: {body}");
    let errors = body["errors"].as_object();
    assert!(
        errors.is_none_or(|e| e.is_empty()),
        "{kind:?}: no property read fails otherwise: {body}"
    );
    assert_eq!(body["set_property"], "Ok", "{kind:?}: {body}");
    assert_eq!(body["custom"], "hello", "{kind:?}: {body}");
}

/// `properties-response`: response and upstream properties on response headers.
pub fn properties_response(kind: ProxyKind) {
    let abi = Abi::start(kind);
    let response = abi.get("properties-response", "/", &[]);
    assert_eq!(response.status, 200, "{kind:?}: {}", response.text());
    let upstream = abi.backend.addr.to_string();
    let expected = [
        ("x-abi-prop-response-code", "200"),
        ("x-abi-prop-response-header", BACKEND),
        ("x-abi-prop-upstream-address", upstream.as_str()),
        ("x-abi-prop-code-details", "via_upstream"),
        ("x-abi-prop-flags", "0"),
        // A plain-text cluster: no upstream TLS session.
        ("x-abi-prop-upstream-tls-version", "<absent>"),
        ("x-abi-prop-upstream-peer-uri-san", "<absent>"),
    ];
    let seen: Vec<_> = expected
        .iter()
        .map(|(name, _)| (*name, response.header(name)))
        .collect();
    let expected: Vec<_> = expected.iter().map(|(n, v)| (*n, Some(*v))).collect();
    assert_eq!(seen, expected, "{kind:?}");
}

/// `shared-data`: get / set / CAS, identical on repeat.
pub fn shared_data(kind: ProxyKind) {
    let abi = Abi::start(kind);
    let key = format!("abi.shared.{}", nonce());
    let expected = json!({
        "key": key,
        "get_missing": {"status": "NotFound"},
        "set": "Ok",
        "get": {"status": "Ok", "value": "v1", "cas_nonzero": true},
        "set_with_cas": "Ok",
        "set_with_stale_cas": "CasMismatch",
        "get_after": {"status": "Ok", "value": "v2", "cas_nonzero": true, "cas_changed": true},
    });
    for round in 0..2 {
        let body = abi.json_case("shared-data", "/", &[("x-abi-key", &key)]);
        assert_eq!(body, expected, "{kind:?}: round {round}");
    }
}

fn queue_read(abi: &Abi) -> (Value, Value) {
    let body = abi.json_case("queue-read", "/", &[]);
    (body["last"].clone(), body["count"].clone())
}

/// `queue` then `queue-read`: enqueue, the root's `on_queue_ready`, counts growing by one.
pub fn queue(kind: ProxyKind) {
    let abi = Abi::start(kind);
    let mut last_count = None;
    for round in 0..2 {
        let path = format!("/queue/{}", nonce());
        let body = abi.json_case("queue", &path, &[]);
        let expected = json!({
            "vm_id": VM_ID, "resolve": "Ok", "enqueue": "Ok", "enqueued": path,
            "register": "Ok", "register_same_id": true, "resolve_missing": "NotFound",
            "enqueue_bad_id": "NotFound", "dequeue_bad_id": "NotFound",
        });
        assert_eq!(body, expected, "{kind:?}: round {round}");
        let count = poll_until("on_queue_ready to store the item", ASYNC_DEADLINE, || {
            let (last, count) = queue_read(&abi);
            if last == json!(path) {
                count
                    .as_u64()
                    .ok_or_else(|| format!("count is not a number: {count}"))
            } else {
                Err(format!("last = {last}, count = {count}"))
            }
        });
        if let Some(previous) = last_count {
            assert_eq!(count, previous + 1, "{kind:?}: one item per request");
        }
        last_count = Some(count);
    }
}

fn ticks(abi: &Abi) -> u64 {
    let response = abi.get("timer", "/", &[]);
    let body = abi.assert_json_reply("timer", 200, &response);
    let ticks = body["ticks"].as_u64().expect("ticks is a number");
    assert_eq!(
        header(abi.kind, &response, "x-abi-ticks"),
        ticks.to_string(),
        "{:?}",
        abi.kind
    );
    ticks
}

/// `timer`: ticks start and keep going.
pub fn timer(kind: ProxyKind) {
    let abi = Abi::start(kind);
    let first = poll_until("the first tick", ASYNC_DEADLINE, || match ticks(&abi) {
        0 => Err("no tick yet".into()),
        n => Ok(n),
    });
    poll_until("more ticks", ASYNC_DEADLINE, || {
        let now = ticks(&abi);
        if now > first {
            Ok(())
        } else {
            Err(format!("still {now} ticks"))
        }
    });
}

/// `time`: proxy time and WASI realtime are now.
pub fn time(kind: ProxyKind) {
    let abi = Abi::start(kind);
    let before = now_ns();
    let response = abi.get("time", "/", &[]);
    let after = now_ns();
    let body = abi.assert_json_reply("time", 200, &response);
    let slack = Duration::from_secs(5).as_nanos();
    for field in ["proxy_time_ns", "wasi_realtime_ns"] {
        let value = body[field]
            .as_u64()
            .unwrap_or_else(|| panic!("{kind:?}: {field}: {body}")) as u128;
        assert!(
            value + slack >= before && value <= after + slack,
            "{kind:?}: {field} = {value} not within 5 s of [{before}, {after}]"
        );
    }
    assert_eq!(
        header(kind, &response, "x-abi-time-ns"),
        body["proxy_time_ns"].to_string(),
        "{kind:?}"
    );
    assert_eq!(body["wasi_monotonic_ok"], true, "{kind:?}: {body}");
}

/// `wasi`: no environment or arguments, a random number.
pub fn wasi(kind: ProxyKind) {
    let abi = Abi::start(kind);
    let body = abi.json_case("wasi", "/", &[]);
    assert_eq!(body["environ_count"], 0, "{kind:?}: {body}");
    assert_eq!(body["args_count"], 0, "{kind:?}: {body}");
    assert!(body["random"].is_u64(), "{kind:?}: {body}");
}

/// The value of metric `name` in a Prometheus exposition (`name N` or `name{...} N`).
fn prometheus_value(text: &str, name: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let rest = line.strip_prefix(name)?;
        let rest = if let Some(labels) = rest.strip_prefix('{') {
            &labels[labels.find('}')? + 1..]
        } else {
            rest
        };
        let value = rest.strip_prefix(' ')?.trim();
        value
            .parse::<u64>()
            .ok()
            .or_else(|| value.parse::<f64>().ok().map(|v| v as u64))
    })
}

/// `metrics`: counter / gauge / histogram statuses (recording adds to a counter, adding zero is
/// refused), the counter host-wide and cumulative, and
/// visible in the admin (`/stats/prometheus` on both; Envoy also names it
/// `wasmcustom.abi_counter` in `/stats?format=json`).
pub fn metrics(kind: ProxyKind) {
    let abi = Abi::start(kind);
    let mut counters = Vec::new();
    for _ in 0..2 {
        let response = abi.get("metrics", "/", &[("x-abi-value", "42")]);
        let body = abi.assert_json_reply("metrics", 200, &response);
        let counter = body["counter"].as_u64().expect("counter is a number");
        let expected = json!({
            "value": 42, "counter": counter, "counter_get": "Ok", "counter_increment": "Ok",
            "counter_decrement": "BadArgument", "counter_zero": "BadArgument",
            "counter_record": "Ok",
            "gauge": 45, "gauge_get": "Ok", "gauge_record": "Ok", "gauge_increment": "Ok",
            "gauge_decrement": "Ok",
            "histogram_record": "Ok", "histogram_get": "BadArgument",
            "missing_get": "NotFound", "missing_record": "NotFound", "missing_increment": "NotFound",
        });
        assert_eq!(body, expected, "{kind:?}");
        assert_eq!(
            header(kind, &response, "x-abi-counter"),
            counter.to_string(),
            "{kind:?}"
        );
        assert_eq!(response.header("x-abi-gauge"), Some("45"), "{kind:?}");
        counters.push(counter);
    }
    assert!(counters[0] >= 1, "{kind:?}: {counters:?}");
    // One increment and a recorded 3 per request: recording adds to a counter.
    assert_eq!(counters[1], counters[0] + 4, "{kind:?}: {counters:?}");
    let last = counters[1];
    poll_until("the counter in /stats/prometheus", ASYNC_DEADLINE, || {
        let text = abi.proxy.admin_get("/stats/prometheus").text();
        match prometheus_value(&text, "abi_counter") {
            Some(value) if value == last => Ok(()),
            other => Err(format!("abi_counter = {other:?}, want {last}:\n{text}")),
        }
    });
    match kind {
        ProxyKind::Envoy => {
            let stats = abi.proxy.admin_get("/stats?format=json&filter=abi_").json();
            let found = stats["stats"]
                .as_array()
                .expect("stats array")
                .iter()
                .find(|s| s["name"] == "wasmcustom.abi_counter")
                .cloned();
            assert_eq!(
                found.map(|s| s["value"].clone()),
                Some(json!(last)),
                "envoy: {stats}"
            );
        }
        ProxyKind::Wasmesh => {
            let text = abi.proxy.admin_get("/metrics").text();
            assert_eq!(
                prometheus_value(&text, "abi_counter"),
                Some(last),
                "wasmesh /metrics:\n{text}"
            );
        }
    }
}

/// `http-call` to the echo cluster: headers, body, trailers and status of the call's response.
pub fn http_call(kind: ProxyKind) {
    let abi = Abi::start(kind);
    let response = abi.get("http-call", "/", &[("x-abi-upstream", CALL_CLUSTER)]);
    let body = abi.assert_json_reply("http-call", 200, &response);
    assert_eq!(
        response.header("x-abi-http-call-status"),
        Some("200"),
        "{kind:?}"
    );
    let fixed = [
        ("dispatch", json!("Ok")),
        ("token_matches", json!(true)),
        ("num_trailers", json!(0)),
        ("status", json!("200")),
        ("content_type", json!("application/json")),
        ("x_backend", json!(BACKEND)),
        ("trailers", json!({})),
        (
            "get_status",
            json!({"status": "Ok", "code": 0, "message": ""}),
        ),
    ];
    for (name, value) in fixed {
        assert_eq!(body[name], value, "{kind:?}: {name}: {body}");
    }
    let num_headers = body["num_headers"].as_u64().expect("num_headers");
    assert!(num_headers >= 3, "{kind:?}: {body}");
    assert_eq!(body["header_pairs"], json!(num_headers), "{kind:?}: {body}");
    assert!(
        body["body_size"].as_u64().is_some_and(|n| n > 0),
        "{kind:?}: {body}"
    );
    let echo = &body["body"];
    assert_eq!(echo["backend"], BACKEND, "{kind:?}: {body}");
    assert_eq!(echo["method"], "GET", "{kind:?}: {body}");
    assert_eq!(echo["path"], "/from-http-call", "{kind:?}: {body}");
    assert_eq!(echo["body"], "call-body", "{kind:?}: {body}");
    assert_eq!(echo["headers"]["host"], "x", "{kind:?}: {body}");
    assert_eq!(echo["headers"]["x-abi-call"], "1", "{kind:?}: {body}");
    assert_eq!(echo["headers"]["content-length"], "9", "{kind:?}: {body}");
    // The call and nothing else reached the backend.
    assert_eq!(abi.backend.requests_seen(), 1, "{kind:?}");
}

/// `http-call` without `x-abi-upstream`: a 400 from the guest.
pub fn http_call_requires_upstream(kind: ProxyKind) {
    let abi = Abi::start(kind);
    let response = abi.get("http-call", "/", &[]);
    let body = abi.assert_json_reply("http-call", 400, &response);
    assert_eq!(
        body["error"], "x-abi-upstream is required",
        "{kind:?}: {body}"
    );
}

/// `http-call-timeout`: a call slower than its timeout comes back as a 504 response.
pub fn http_call_timeout(kind: ProxyKind) {
    let abi = Abi::start(kind);
    let response = abi.get(
        "http-call-timeout",
        "/",
        &[("x-abi-upstream", CALL_CLUSTER)],
    );
    let body = abi.assert_json_reply("http-call-timeout", 200, &response);
    assert_eq!(
        response.header("x-abi-http-call-status"),
        Some("504"),
        "{kind:?}"
    );
    let fixed = [
        ("status", json!("504")),
        ("body", json!("upstream request timeout")),
        ("body_size", json!(24)),
        ("content_type", json!("text/plain")),
        ("num_headers", json!(3)),
        ("x_backend", Value::Null),
        (
            "get_status",
            json!({"status": "Ok", "code": 0, "message": ""}),
        ),
    ];
    for (name, value) in fixed {
        assert_eq!(body[name], value, "{kind:?}: {name}: {body}");
    }
}

/// `http-call-bad-cluster`: an unknown cluster and a call without `:path` are `BadArgument`; a
/// call with an empty `:authority` is sent (Envoy checks only that the header is there).
pub fn http_call_bad_cluster(kind: ProxyKind) {
    let abi = Abi::start(kind);
    let body = abi.json_case("http-call-bad-cluster", "/", &[]);
    assert_eq!(
        body,
        json!({"dispatch": "BadArgument", "dispatch_without_path": null, "dispatch_empty_authority": null}),
        "{kind:?}"
    );
    let body = abi.json_case(
        "http-call-bad-cluster",
        "/",
        &[("x-abi-upstream", CALL_CLUSTER)],
    );
    assert_eq!(
        body,
        json!({
            "dispatch": "BadArgument",
            "dispatch_without_path": "BadArgument",
            "dispatch_empty_authority": "Ok",
        }),
        "{kind:?}"
    );
    poll_until(
        &format!("{kind:?}: the empty-authority call reaches the backend"),
        ASYNC_DEADLINE,
        || match abi.backend.requests_seen() {
            1 => Ok(()),
            n => Err(format!("{n} requests seen")),
        },
    );
}

/// `continue`: the request waits for an http call, then resumes with its result.
pub fn continue_request(kind: ProxyKind) {
    let abi = Abi::start(kind);
    let response = abi.get("continue", "/c", &[("x-abi-upstream", CALL_CLUSTER)]);
    assert_eq!(response.status, 200, "{kind:?}: {}", response.text());
    let echo = response.echo();
    assert_eq!(echo.path, "/c", "{kind:?}");
    assert_eq!(
        echo.header("x-abi-continue-status"),
        Some("200"),
        "{kind:?}"
    );
    assert_eq!(
        response.header("x-abi-response-seen"),
        Some("continue"),
        "{kind:?}"
    );
    assert_eq!(
        abi.backend.requests_seen(),
        2,
        "{kind:?}: the call and the request"
    );
    let response = abi.get("continue", "/c", &[]);
    assert_eq!(response.status, 200, "{kind:?}: {}", response.text());
    assert_eq!(
        response.echo().header("x-abi-continue-status"),
        Some("dispatch-no-upstream"),
        "{kind:?}"
    );
}

/// `continue-response`: the response waits for an http call, then resumes.
pub fn continue_response(kind: ProxyKind) {
    let abi = Abi::start(kind);
    let response = abi.get(
        "continue-response",
        "/",
        &[("x-abi-upstream", CALL_CLUSTER)],
    );
    assert_eq!(response.status, 200, "{kind:?}: {}", response.text());
    assert_eq!(response.echo().path, "/", "{kind:?}");
    assert_eq!(
        response.header("x-abi-continue-response-status"),
        Some("200"),
        "{kind:?}"
    );
}

/// A body sent in one piece over HTTP/1.1 reaches `on_request_body` twice, as Envoy's codec
/// passes it: the data with `end_of_stream` false, then the end of the message with nothing
/// more (a buffering filter sees the whole body again there, with `end_of_stream` true).
fn assert_body_calls(kind: ProxyKind, response: &Response) {
    let calls = parse_u64(
        kind,
        "x-abi-req-body-calls",
        header(kind, response, "x-abi-req-body-calls"),
    );
    assert_eq!(calls, 2, "{kind:?}: {calls} body calls");
}

/// `body`: buffered request body replaced (same length), response body appended to.
pub fn body(kind: ProxyKind) {
    let abi = Abi::start(kind);
    let response = abi.post("body", "/b", &[], "hello world");
    assert_eq!(response.status, 200, "{kind:?}: {}", response.text());
    let text = response.text();
    let json = text
        .strip_suffix("\n-- abi")
        .unwrap_or_else(|| panic!("{kind:?}: body does not end with the appendix: {text:?}"));
    let echo: Value = serde_json::from_str(json)
        .unwrap_or_else(|e| panic!("{kind:?}: not an echo ({e}): {text:?}"));
    assert_eq!(echo["body"], "HELLO WORLD", "{kind:?}: {echo}");
    assert_eq!(echo["path"], "/b", "{kind:?}: {echo}");
    assert_eq!(echo["headers"]["content-length"], "11", "{kind:?}: {echo}");
    assert_eq!(
        response.header("x-abi-req-body-size"),
        Some("11"),
        "{kind:?}"
    );
    assert_eq!(
        response.header("x-abi-req-buffer-status"),
        Some("Ok:11"),
        "{kind:?}"
    );
    assert_body_calls(kind, &response);
    // Without a request body.
    let response = abi.get("body", "/b", &[]);
    assert_eq!(response.status, 200, "{kind:?}: {}", response.text());
    assert!(response.text().ends_with("\n-- abi"), "{kind:?}");
    assert_eq!(
        response.header("x-abi-req-body-size"),
        Some("none"),
        "{kind:?}"
    );
    assert_eq!(
        response.header("x-abi-req-buffer-status"),
        Some("none"),
        "{kind:?}"
    );
    assert_eq!(
        response.header("x-abi-req-body-calls"),
        Some("0"),
        "{kind:?}"
    );
}

/// `body-prepend`: prepends at end of stream in both directions, `content-length` dropped.
pub fn body_prepend(kind: ProxyKind) {
    let abi = Abi::start(kind);
    let response = abi.post("body-prepend", "/b", &[], "hello world");
    assert_eq!(response.status, 200, "{kind:?}: {}", response.text());
    let text = response.text();
    let json = text
        .strip_prefix("abi --\n")
        .unwrap_or_else(|| panic!("{kind:?}: body does not start with the prefix: {text:?}"));
    let echo: Value = serde_json::from_str(json)
        .unwrap_or_else(|e| panic!("{kind:?}: not an echo ({e}): {text:?}"));
    assert_eq!(echo["body"], "PRE:hello world", "{kind:?}: {echo}");
    assert_eq!(
        echo["headers"]["content-length"],
        Value::Null,
        "{kind:?}: {echo}"
    );
    assert_eq!(
        response.header("x-abi-req-body-size"),
        Some("11"),
        "{kind:?}"
    );
    assert_eq!(
        response.header("x-abi-req-buffer-status"),
        Some("Ok:11"),
        "{kind:?}"
    );
    assert_body_calls(kind, &response);
}

/// `body-calls`: how each host passes a body sent in one piece over HTTP/1.1 to the body
/// callbacks, both ways: the data with `end_of_stream` false, then the end alone, as Envoy's
/// codecs dispatch an HTTP/1 message (each call's mark is appended to what it let through).
pub fn body_calls(kind: ProxyKind) {
    let abi = Abi::start(kind);
    let response = abi.post("body-calls", "/calls", &[], "hello world");
    assert_eq!(response.status, 200, "{kind:?}: {}", response.text());
    let text = response.text();
    // The backend's echo is a JSON line; the marks follow its newline.
    let (json, marks) = text
        .rsplit_once("}\n")
        .map(|(json, marks)| (format!("{json}}}\n"), marks.to_string()))
        .unwrap_or_else(|| panic!("{kind:?}: not an echo: {text:?}"));
    let echo: Value = serde_json::from_str(&json)
        .unwrap_or_else(|e| panic!("{kind:?}: not an echo ({e}): {text:?}"));
    assert_eq!(echo["body"], "hello world[11,false][0,true]", "{kind:?}");
    assert_eq!(marks, format!("[{},false][0,true]", json.len()), "{kind:?}");
}

/// `body-stream`: every chunk uppercased as it passes, nothing buffered.
pub fn body_stream(kind: ProxyKind) {
    let abi = Abi::start(kind);
    let response = abi.post("body-stream", "/b", &[], "hello world");
    assert_eq!(response.status, 200, "{kind:?}: {}", response.text());
    let text = response.text();
    assert_eq!(text, text.to_uppercase(), "{kind:?}: all uppercase");
    let echo: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{kind:?}: not an echo ({e}): {text:?}"));
    assert_eq!(echo["BODY"], "HELLO WORLD", "{kind:?}: {echo}");
    assert_eq!(echo["PATH"], "/B", "{kind:?}: {echo}");
    assert_eq!(echo["BACKEND"], "B1", "{kind:?}: {echo}");
    assert_eq!(
        response.header("x-abi-req-body-size"),
        Some("none"),
        "{kind:?}"
    );
    assert_eq!(
        response.header("x-abi-req-buffer-status"),
        Some("none"),
        "{kind:?}"
    );
    assert_body_calls(kind, &response);
}

fn assert_no_response(kind: ProxyKind, abi: &Abi, case: &str) {
    let url = abi.proxy.url("main", "/");
    let h1 = client::shared().send(Method::GET, &url, &[("x-abi-case", case)], "");
    assert!(
        h1.is_err(),
        "{kind:?}: {case} over HTTP/1.1 got a response: {h1:?}"
    );
    let h2 = client::h2_with_trailers(Method::GET, &url, &[("x-abi-case", case)], "", &[]);
    assert!(
        h2.is_err(),
        "{kind:?}: {case} over h2 got a response: {h2:?}"
    );
}

/// `close`: the stream is closed on request headers; nothing reaches the upstream.
pub fn close(kind: ProxyKind) {
    let abi = Abi::start(kind);
    assert_no_response(kind, &abi, "close");
    assert_eq!(abi.backend.requests_seen(), 0, "{kind:?}");
}

/// `close-response`: the request reaches the upstream, the response is never delivered.
pub fn close_response(kind: ProxyKind) {
    let abi = Abi::start(kind);
    assert_no_response(kind, &abi, "close-response");
    assert_eq!(abi.backend.requests_seen(), 2, "{kind:?}: one per protocol");
}

/// `foreign`: both hosts have `clear_route_cache`, `compress` and `uncompress` (zlib), and answer `NotFound` for any other name.
pub fn foreign(kind: ProxyKind) {
    let abi = Abi::start(kind);
    let body = abi.json_case("foreign", "/", &[]);
    assert_eq!(
        body,
        json!({
            "no_such_function": "NotFound",
            "clear_route_cache": "Ok",
            "compress": "Ok",
            "compressed_smaller": true,
            "zlib_header": "78",
            "uncompress": "Ok",
            "round_trip": true,
            "uncompress_garbage": "SerializationFailure",
        }),
        "{kind:?}"
    );
}

/// `grpc`: the statuses of the gRPC hostcalls (both hosts answer as Envoy 1.40 does).
pub fn grpc(kind: ProxyKind) {
    let abi = Abi::start(kind);
    let without = abi.json_case("grpc", "/", &[]);
    let with = abi.json_case("grpc", "/", &[("x-abi-upstream", CALL_CLUSTER)]);
    let expected_without = json!({
        "call_unknown_cluster": "ParseFailure", "stream_unknown_cluster": "ParseFailure",
        "call": null, "stream": null,
        "send_bad_id": "BadArgument", "cancel_bad_id": "BadArgument",
        "close_bad_id": "BadArgument",
    });
    let mut expected_with = expected_without.clone();
    expected_with["call"] = json!({"status": "Ok", "cancel": "Ok"});
    expected_with["stream"] = json!({"status": "Ok", "send": "Ok", "cancel": "Ok"});
    assert_eq!(
        without, expected_without,
        "{kind:?}: without x-abi-upstream"
    );
    assert_eq!(with, expected_with, "{kind:?}: with x-abi-upstream");
}

/// `config`: the VM and plugin configurations the root read.
pub fn config(kind: ProxyKind) {
    let abi = Abi::start(kind);
    let body = abi.json_case("config", "/", &[]);
    assert_eq!(
        body,
        json!({
            "plugin_configuration": PLUGIN_CONFIG,
            "plugin_configuration_size": PLUGIN_CONFIG.len(),
            "vm_configuration": VM_CONFIG,
            "vm_configuration_size": VM_CONFIG.len(),
        }),
        "{kind:?}"
    );
}

/// `done`: `proxy_done` from a stream not pending finalization is `NotFound`.
pub fn done(kind: ProxyKind) {
    let abi = Abi::start(kind);
    let body = abi.json_case("done", "/", &[]);
    assert_eq!(body, json!({"done": "NotFound"}), "{kind:?}");
}

/// `declare-property`: Envoy's `declare_property` foreign function, as both hosts answer it.
pub fn declare_property(kind: ProxyKind) {
    let abi = Abi::start(kind);
    let got = abi.json_case("declare-property", "/", &[]);
    let set = |second: &str, value: &str| json!({"first": "Ok", "second": second, "value": value});
    assert_eq!(
        got,
        json!({
            "root": {"readonly": "Ok", "readonly_again": "BadArgument", "writable": "Ok"},
            "readonly": set("BadArgument", "first"),
            "writable": set("Ok", "second"),
            "stream_declare": "Ok",
            "stream_declare_again": "BadArgument",
            "stream_declared": set("Ok", "second"),
            "garbage": "BadArgument",
        }),
        "{kind:?}"
    );
}

/// `cel`: Envoy's CEL foreign functions over the request's attributes (`GET /cel/path`): the
/// values in Envoy's encoding, and the statuses of what cannot be created or evaluated.
pub fn cel(kind: ProxyKind) {
    let abi = Abi::start(kind);
    let mut body = abi.json_case("cel", "/cel/path", &[]);
    let host = abi.host();
    // The client's port differs per run: only its address is checked.
    let source = body["source_address"]["hex"].take();
    let source = source.as_str().map(unhex).unwrap_or_default();
    assert!(
        source.starts_with("127.0.0.1:"),
        "{host}: source.address {source:?}"
    );
    let value = |hex: &str| json!({"create": "Ok", "evaluate": "Ok", "hex": hex});
    let failed = |status: &str| json!({"create": "Ok", "evaluate": status});
    let yes = value("01");
    assert_eq!(
        body,
        json!({
            "string": value("2f63656c2f7061746821"),
            "int": value("1200000000000000"),
            "bool": yes,
            "double": value("0000000000000840"),
            "list": value("02000000080000000000000008000000000000000100000000000000000002000000000000000000"),
            "map": value("01000000010000000100000061006200"),
            "missing_header": failed("InternalFailure"),
            "method_in": yes,
            "uint": value("0200000000000000"),
            "bytes": value("6162"),
            "null": failed("SerializationFailure"),
            "timestamp": value("0032961cf2ca8618"),
            "duration": value("002f685900000000"),
            "request_time": yes,
            // Known once the stream is over, in Envoy as here.
            "request_duration": failed("InternalFailure"),
            "nested": value("020000000f00000000000000170000000000000001000000010000000000000078000000000100000001000000080000006b000100000000000000000000"),
            "source_port_positive": yes,
            "destination_port": yes,
            "source_address": {"create": "Ok", "evaluate": "Ok", "hex": null},
            "mtls": value("00"),
            "response_code": failed("InternalFailure"),
            "plugin_name": value("616269"),
            "headers_size": yes,
            "starts_with": yes,
            "matches": yes,
            "unknown_ident": failed("InternalFailure"),
            "div_zero": failed("InternalFailure"),
            "parse_error": "BadArgument",
            "delete": "Ok",
            "evaluate_deleted": "NotFound",
            "evaluate_short_token": "BadArgument",
        }),
        "{host}"
    );
}

fn unhex(hex: &str) -> String {
    let bytes: Vec<u8> = (0..hex.len() / 2)
        .filter_map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok())
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}
