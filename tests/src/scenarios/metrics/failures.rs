//! Streams that end badly: a refused upstream, an upstream that hangs up, a client that gives
//! up, and a configuration the filter refuses.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use serde_json::json;

use wasmesh_contract::exposition as prometheus;

use super::{assert_samples, config_with, labels, mesh, plus, request_labels, Expected, Rig};
use crate::{client, ProxyKind};

/// A port nothing listens on.
fn dead_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding a port to free");
    listener.local_addr().expect("its address")
}

/// `response_total` of route `route` with `status_code` (a failure) is `count`, and its
/// in-flight gauge is back to 0.
fn failed(authority: &str, route: &str, status_code: &str, count: f64) -> Vec<Expected> {
    let base = request_labels(authority, route);
    let response = plus(
        &base,
        &[("status_code", status_code), ("classification", "failure")],
    );
    vec![
        ("response_total", response, count),
        ("request_in_flight", base, 0.0),
    ]
}

/// A cluster whose endpoint refuses connections: the router's 503 passes the filter as a
/// response, so it is `status_code="503"`, a failure, and in-flight returns to 0.
pub fn refused_upstream_is_a_503_failure(kind: ProxyKind) {
    let host = kind.name();
    let dead = dead_port();
    let proxy = kind.start(&mesh(config_with(json!({})), [dead]));
    for _ in 0..2 {
        let response = client::get(&proxy.url("main", "/refused"), &[]);
        assert_eq!(response.status, 503, "{host}: {}", response.text());
    }
    let authority = proxy.listener("main").to_string();
    let mut expected = failed(&authority, "default", "503", 2.0);
    let endpoint = labels(&[
        ("endpoint", &dead.to_string()),
        ("classification", "failure"),
    ]);
    expected.push(("endpoint_response_total", endpoint, 2.0));
    assert_samples(&proxy, &expected);
}

/// An upstream that reads the request and closes the connection without a word: both hosts
/// answer the client 503 (Envoy: "upstream connect error or disconnect/reset before headers")
/// and the filter counts that 503 as a failure.
pub fn upstream_closing_mid_request_is_a_failure(kind: ProxyKind) {
    let host = kind.name();
    let rude = TcpListener::bind("127.0.0.1:0").expect("binding the rude upstream");
    let addr = rude.local_addr().expect("its address");
    std::thread::spawn(move || {
        for stream in rude.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            drop(stream);
        }
    });
    let proxy = kind.start(&mesh(config_with(json!({})), [addr]));
    let response = client::get(&proxy.url("main", "/hangup"), &[]);
    assert_eq!(response.status, 503, "{host}: {}", response.text());
    let authority = proxy.listener("main").to_string();
    assert_samples(&proxy, &failed(&authority, "default", "503", 1.0));
}

/// A client that hangs up while the upstream is still working: no response ever reaches the
/// filter, so the stream is `status_code="0"`, a failure, with no latency sample, and in-flight
/// returns to 0.
pub fn aborted_request_is_status_0_failure(kind: ProxyKind) {
    let rig = Rig::start(kind, json!({}));
    let addr = rig.proxy.listener("main");
    let mut stream = TcpStream::connect(addr).expect("connecting to the proxy");
    let request = format!("GET /delay?ms=2000 HTTP/1.1\r\nhost: {addr}\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("sending");
    wait_for_upstream(&rig);
    drop(stream);
    let authority = rig.authority();
    assert_samples(&rig.proxy, &failed(&authority, "delay", "0", 1.0));
    let text = rig.proxy.admin_get("/stats/prometheus").text();
    let latency_samples = prometheus::samples(&text)
        .into_iter()
        .filter(|s| s.name.starts_with("response_latency_ms"))
        .filter(|s| s.labels.get("status_code").map(String::as_str) == Some("0"))
        .count();
    assert_eq!(
        latency_samples,
        0,
        "{}: a stream without a response has no latency sample:\n{text}",
        kind.name()
    );
}

/// Waits until the backend has the request (so the hang-up happens mid-request).
fn wait_for_upstream(rig: &Rig) {
    crate::poll_until(
        "the request reaching the backend",
        Duration::from_secs(5),
        || {
            if rig.backend.requests_seen() >= 1 {
                Ok(())
            } else {
                Err("not yet".to_string())
            }
        },
    );
}

/// A configuration the filter refuses: the host does not start, and the log names the field.
pub fn bad_config_is_refused_naming_the_field(kind: ProxyKind) {
    for (config, want) in [
        (
            json!({ "direction": "sideways" }),
            "direction: unknown variant",
        ),
        (
            json!({ "max_label_values": 0 }),
            "max_label_values: must be above 0",
        ),
        (
            json!({ "routes": [{ "name": "users", "path": "users" }] }),
            "routes[0].path:",
        ),
        (json!({ "tracing": true }), "unknown field `tracing`"),
    ] {
        let backend = crate::Backend::start("b1");
        match kind.try_start(&mesh(config.clone(), [backend.addr])) {
            Ok(proxy) => panic!("{} started with {config}:\n{}", kind.name(), proxy.logs()),
            Err(logs) => assert!(
                logs.contains(want),
                "{}: {config} should be refused naming the field ({want}):\n{logs}",
                kind.name()
            ),
        }
    }
}
