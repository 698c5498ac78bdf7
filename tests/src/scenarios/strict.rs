//! HTTP/1.1 requests a proxy in front of unknown backends must refuse rather than forward,
//! sent byte for byte on raw connections: each gets Envoy's status, and none reaches the
//! backend.

use std::time::Duration;

use crate::raw;
use crate::{Backend, BackendHandle, Cluster, Listener, MeshConfig, Proxy, ProxyKind, Route};

/// Long enough for any answer here; every probe asks the proxy to close after it.
const WAIT: Duration = Duration::from_secs(5);

/// One malformed request: its name, its bytes, and the status Envoy 1.40 answers it with.
pub struct Probe {
    /// What is wrong with it.
    pub name: &'static str,
    /// The request as sent.
    pub bytes: &'static [u8],
    /// Envoy's status.
    pub status: u16,
    /// Refused on its head alone, so nothing reaches the backend. A bad body is found while it
    /// streams, after the head went upstream (in both hosts).
    pub head: bool,
}

/// The requests both hosts refuse with the same status.
pub const PROBES: &[Probe] = &[
    Probe {
        name: "transfer-encoding gzip, chunked",
        bytes: b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\nConnection: close\r\n\r\n0\r\n\r\n",
        status: 501,
        head: true,
    },
    Probe {
        name: "transfer-encoding chunked, chunked",
        bytes: b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\nConnection: close\r\n\r\n0\r\n\r\n",
        status: 501,
        head: true,
    },
    Probe {
        name: "HTTP/1.1 without Host",
        bytes: b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n",
        status: 400,
        head: true,
    },
    Probe {
        name: "Host with invalid characters",
        bytes: b"GET / HTTP/1.1\r\nHost: a<b>c\r\nConnection: close\r\n\r\n",
        status: 400,
        head: true,
    },
    Probe {
        name: "CONNECT",
        bytes: b"CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: 127.0.0.1:1\r\nConnection: close\r\n\r\n",
        status: 404,
        head: true,
    },
    Probe {
        name: "Upgrade: websocket without upgrade_configs",
        bytes: b"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        status: 403,
        head: true,
    },
    Probe {
        name: "chunk size that is not hex",
        bytes: b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
        status: 400,
        head: false,
    },
    Probe {
        name: "chunk size that overflows",
        bytes: b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nfffffffffffffffffffff\r\nhello\r\n0\r\n\r\n",
        status: 400,
        head: false,
    },
];

/// `kind` with listener `main` routing everything to a new backend, and no filter.
fn plain(kind: ProxyKind) -> (Proxy, BackendHandle) {
    let backend = Backend::start("b1");
    let config = MeshConfig::new()
        .cluster(Cluster::fixed("backend", [backend.addr]))
        .listener(Listener::new("main").route(Route::prefix("/", "backend")));
    (kind.start(&config), backend)
}

/// Every probe in [`PROBES`] through a plain listener: Envoy's status, and nothing upstream
/// for a bad head.
pub fn malformed_requests_are_refused(kind: ProxyKind) {
    let host = kind.name();
    let (proxy, backend) = plain(kind);
    let mut wrong = Vec::new();
    for probe in PROBES {
        let seen = backend.requests_seen();
        let answer = raw::exchange(proxy.listener("main"), probe.bytes, WAIT);
        let status = raw::status_code(&answer);
        if probe.head && backend.requests_seen() != seen {
            wrong.push(format!("{}: reached the backend", probe.name));
        }
        if status != Some(probe.status) {
            wrong.push(format!(
                "{}: got {status:?}, want {}: {:?}",
                probe.name,
                probe.status,
                String::from_utf8_lossy(&answer[..answer.len().min(200)])
            ));
        }
    }
    assert!(wrong.is_empty(), "{host}:\n{}", wrong.join("\n"));
}

/// `Content-Length` and `Transfer-Encoding: chunked` together (a request-smuggling shape):
/// Envoy refuses it (400). hyper, which parses wasmesh's requests, drops the length before
/// wasmesh sees the head and decodes the body as chunked, so wasmesh forwards the chunked body
/// without the length: nothing is smuggled, but the request is not refused (the README's
/// protections table states the difference).
pub fn length_with_chunked(kind: ProxyKind) {
    let host = kind.name();
    let (proxy, backend) = plain(kind);
    let request = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
    let answer = raw::exchange(proxy.listener("main"), request, WAIT);
    let text = String::from_utf8_lossy(&answer);
    match kind {
        ProxyKind::Envoy => {
            assert_eq!(raw::status_code(&answer), Some(400), "{host}: {text}");
            assert_eq!(backend.requests_seen(), 0, "{host}");
        }
        ProxyKind::Wasmesh => {
            assert_eq!(raw::status_code(&answer), Some(200), "{host}: {text}");
            assert!(
                text.contains(r#""body":"abc""#),
                "{host}: the chunked body: {text}"
            );
            assert!(
                !text.contains("content-length\":\"5"),
                "{host}: the length reached the backend: {text}"
            );
        }
    }
}

/// Heads over Envoy's default limits (`max_request_headers_kb` 60, `max_headers_count` 100)
/// get 431 and reach nothing; heads under them pass.
pub fn oversized_heads_get_431(kind: ProxyKind) {
    let host = kind.name();
    let (proxy, backend) = plain(kind);
    let head =
        |extra: &str| format!("GET / HTTP/1.1\r\nHost: x\r\n{extra}Connection: close\r\n\r\n");
    let big = |kib: usize| format!("X-Big: {}\r\n", "a".repeat(kib * 1024));
    let many = |n: usize| (0..n).map(|i| format!("X-H{i}: v\r\n")).collect::<String>();
    let uri = |kib: usize| {
        let path = "a".repeat(kib * 1024);
        format!("GET /{path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    };
    let cases = [
        ("a 50 KiB URI", uri(50), 200),
        ("a 70 KiB URI", uri(70), 431),
        ("a 50 KiB header", head(&big(50)), 200),
        ("a 61 KiB header", head(&big(61)), 431),
        ("a 70 KiB header", head(&big(70)), 431),
        ("96 header fields", head(&many(96)), 200),
        ("110 header fields", head(&many(110)), 431),
    ];
    let mut wrong = Vec::new();
    for (name, request, want) in &cases {
        let seen = backend.requests_seen();
        let answer = raw::exchange(proxy.listener("main"), request.as_bytes(), WAIT);
        let status = raw::status_code(&answer);
        if status != Some(*want) {
            wrong.push(format!("{name}: got {status:?}, want {want}"));
        }
        if *want != 200 && backend.requests_seen() != seen {
            wrong.push(format!("{name}: reached the backend"));
        }
    }
    assert!(wrong.is_empty(), "{host}:\n{}", wrong.join("\n"));
}

/// Requests of unusual but valid form reach the backend whole: a GET with a chunked body keeps
/// its body, an absolute-form URI's userinfo never becomes part of `host` (RFC 9110 §4.2.4
/// deprecates userinfo; Envoy sends the host alone), and `te: trailers` is forwarded.
///
/// A stated difference, not tested: Envoy 1.40 answers 400 when `connection` names `host` or
/// `x-forwarded-for`; wasmesh drops the named header and serves (the host comes from the
/// request line or `:authority`, and the client's address is appended to a fresh
/// `x-forwarded-for`).
pub fn unusual_request_forms_reach_the_backend_intact(kind: ProxyKind) {
    let host = kind.name();
    let (proxy, _backend) = plain(kind);
    let echo = |request: &[u8]| -> serde_json::Value {
        let answer = raw::exchange(proxy.listener("main"), request, WAIT);
        let text = String::from_utf8_lossy(&answer).to_string();
        assert_eq!(raw::status_code(&answer), Some(200), "{host}: {text}");
        let body = text.split("\r\n\r\n").nth(1).unwrap_or_default();
        serde_json::from_str(body.trim()).unwrap_or_else(|e| panic!("{host}: {e}: {text}"))
    };
    let get_with_body = echo(
        b"GET /g HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    );
    assert_eq!(get_with_body["body"], "abc", "{host}: {get_with_body}");
    let userinfo = echo(
        b"GET http://user:pw@svc.example/u HTTP/1.1\r\nHost: svc.example\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(
        userinfo["headers"]["host"], "svc.example",
        "{host}: {userinfo}"
    );
    assert_eq!(userinfo["path"], "/u", "{host}: {userinfo}");
    // `te: trailers` goes on (gRPC servers need it), even when `connection` names it; a
    // header `connection` names does not.
    let nominated = echo(
        b"GET /t HTTP/1.1\r\nHost: x\r\nConnection: te, x-secret, close\r\nTE: trailers\r\nX-Secret: v\r\n\r\n",
    );
    assert_eq!(
        nominated["headers"]["te"], "trailers",
        "{host}: {nominated}"
    );
    assert_eq!(
        nominated["headers"]["x-secret"],
        serde_json::Value::Null,
        "{host}"
    );
}
