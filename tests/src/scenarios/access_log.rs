//! A listener's access log, the same in both hosts: the same `json_format` of Envoy command
//! operators, the same requests (answered by the backend, with a body, without a route, to an
//! endpoint that refuses), and the same entries — values typed as Envoy types them (numbers for
//! codes, bytes and durations, `null` for a value a stream does not have, `-` for one inside
//! a longer string). Entries are read back from the file each host wrote.

mod tcp;

pub use tcp::tcp_access_log_entries;

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{json, Value};

use crate::{client, poll_until, Backend, Cluster, Listener, ListenerAccessLog, MeshConfig};
use crate::{ProxyKind, Route};

/// The fields both hosts are given.
fn json_format() -> BTreeMap<String, String> {
    [
        ("method", "%REQ(:METHOD)%"),
        ("path", "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%"),
        ("protocol", "%PROTOCOL%"),
        ("code", "%RESPONSE_CODE%"),
        ("flags", "%RESPONSE_FLAGS%"),
        ("received", "%BYTES_RECEIVED%"),
        ("sent", "%BYTES_SENT%"),
        ("duration", "%DURATION%"),
        ("upstream", "%UPSTREAM_HOST%"),
        ("request_id", "%REQ(X-REQUEST-ID)%"),
        ("agent", "%REQ(USER-AGENT):5%"),
        ("remote", "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%"),
        ("start", "%START_TIME%"),
        ("summary", "%REQ(:METHOD)% %RESPONSE_CODE% %REQ(X-ABSENT)%"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// An address nothing listens on (the port was bound, then freed): connecting is refused.
fn refusing_address() -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address")
}

/// A log file in a fresh run directory named `dir`, with [`json_format`]'s fields.
fn log_in(dir: &str) -> (std::path::PathBuf, ListenerAccessLog) {
    let path = crate::process::run_dir(dir).join("access.log");
    let log = ListenerAccessLog {
        path: path.clone(),
        json_format: json_format(),
    };
    (path, log)
}

/// `access_log_entries`: four requests, four entries, equal in both hosts but for the time.
pub fn access_log_entries(kind: ProxyKind) {
    let backend = Backend::start("b1");
    let refusing = refusing_address();
    let (path, log) = log_in("access-log");
    let config = MeshConfig::new()
        .cluster(Cluster::fixed("backend", [backend.addr]))
        .cluster(Cluster::fixed("down", [refusing]))
        .listener(
            Listener::new("main")
                .route(Route::prefix("/app", "backend"))
                .route(Route::prefix("/down", "down"))
                .access_log(log),
        );
    let proxy = kind.start(&config);
    let url = |p: &str| proxy.url("main", p);
    let headers = |id: &'static str| [("x-request-id", id), ("user-agent", "agent-of-test")];
    let sent = [
        client::get(&url("/app/hello"), &headers("rid-1")),
        client::post(&url("/app/upload"), &headers("rid-2"), "hello world"),
        client::get(&url("/nothing"), &headers("rid-3")),
        client::get(&url("/down/x"), &headers("rid-4")),
    ];
    let codes: Vec<u16> = sent.iter().map(|r| r.status.as_u16()).collect();
    assert_eq!(codes, [200, 200, 404, 503], "{kind:?}");
    let entries: Vec<Value> = poll_until(
        &format!("{kind:?}: four entries in {}", path.display()),
        Duration::from_secs(10),
        || {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let lines: Vec<Value> = text
                .lines()
                .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
                .collect();
            (lines.len() >= 4).then_some(lines).ok_or(text)
        },
    );
    assert_eq!(entries.len(), 4, "{kind:?}: {entries:?}");
    let backend_host = backend.addr.to_string();
    let refusing_host = refusing.to_string();
    let expected = [
        (
            "GET",
            "/app/hello",
            200,
            "-",
            0,
            json!(backend_host),
            "rid-1",
            "GET 200 -",
        ),
        (
            "POST",
            "/app/upload",
            200,
            "-",
            11,
            json!(backend_host),
            "rid-2",
            "POST 200 -",
        ),
        (
            "GET",
            "/nothing",
            404,
            "NR",
            0,
            json!(null),
            "rid-3",
            "GET 404 -",
        ),
        (
            "GET",
            "/down/x",
            503,
            "UF",
            0,
            json!(refusing_host),
            "rid-4",
            "GET 503 -",
        ),
    ];
    for ((entry, response), (method, path, code, flags, received, upstream, id, summary)) in
        entries.iter().zip(&sent).zip(expected)
    {
        let what = format!("{kind:?} {method} {path}: {entry}");
        assert_eq!(entry["method"], method, "{what}");
        assert_eq!(entry["path"], path, "{what}");
        assert_eq!(entry["protocol"], "HTTP/1.1", "{what}");
        assert_eq!(entry["code"], code, "{what}");
        assert_eq!(entry["flags"], flags, "{what}");
        assert_eq!(entry["received"], received, "{what}");
        assert_eq!(
            entry["sent"],
            response.body.len(),
            "{what}: the body the client got"
        );
        assert!(entry["duration"].is_u64(), "{what}");
        assert_eq!(entry["upstream"], upstream, "{what}");
        assert_eq!(entry["request_id"], id, "{what}");
        assert_eq!(entry["agent"], "agent", "{what}: cut to 5 characters");
        assert_eq!(entry["remote"], "127.0.0.1", "{what}");
        assert_eq!(entry["summary"], summary, "{what}");
        let start = entry["start"].as_str().unwrap_or_default();
        assert!(
            start.len() == 24 && start.ends_with('Z') && start.as_bytes()[19] == b'.',
            "{what}: START_TIME like 2026-12-05T12:17:00.310Z"
        );
    }
}

/// wasmesh: an operator it does not know, a zero flush interval or a file it cannot open
/// refuses the configuration naming the field, and the running log goes on.
pub fn bad_access_logs_are_refused() {
    let backend = Backend::start("b1");
    let (path, log) = log_in("access-log");
    let mesh = MeshConfig::new()
        .cluster(Cluster::fixed("backend", [backend.addr]))
        .listener(
            Listener::new("main")
                .route(Route::prefix("/", "backend"))
                .access_log(log),
        );
    let config = mesh.to_wasmesh_json();
    let proxy = crate::Wasmesh::start(config.clone());
    let broken = |field: &str, value: Value| {
        let mut broken = config.clone();
        broken["listeners"][0]["access_log"][field] = value;
        broken
    };
    let cases = [
        (
            broken("json_format", json!({ "code": "%RESPONSE_CODE% %NOPE%" })),
            "config error at `listeners[0].access_log.json_format.code`: %NOPE% is not a command operator",
        ),
        (
            broken("flush_interval_ms", json!(0)),
            "config error at `listeners[0].access_log.flush_interval_ms`: must be > 0",
        ),
        (
            broken("path", json!("/nonexistent-dir/access.log")),
            "config error at `listeners[0].access_log.path`: opening /nonexistent-dir/access.log",
        ),
    ];
    for (bad, expected) in cases {
        let (status, body) = crate::scenarios::remote_modules::reload_with(&proxy, &bad);
        assert_eq!(status, 400, "{body}");
        assert!(body.contains(expected), "{expected:?} not in {body}");
    }
    let response = client::get(&proxy.url("main", "/after"), &[("x-request-id", "after")]);
    assert_eq!(response.status, 200);
    poll_until(
        "the entry of a request after the refusals",
        Duration::from_secs(10),
        || {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            text.contains("\"request_id\":\"after\"")
                .then_some(())
                .ok_or(text)
        },
    );
}
