//! Which side failed, as filters learn it: `response.code_details` and `response.flags` read
//! by the abi-test guest's `properties-response` case in `on_response_headers`, for answers
//! from the upstream and for each kind of local reply. Envoy's values are the reference.

use std::time::Duration;

use serde_json::json;

use super::abi::{BACKEND, PLUGIN, ROOT_ID, VM_ID};
use crate::client::{self, Response};
use crate::{
    build_filters, raw, Backend, CircuitBreakers, Cluster, Listener, MeshConfig, Plugin, ProxyKind,
    Route,
};

const CASE: (&str, &str) = ("x-abi-case", "properties-response");

/// What happened, then the status, `response.code_details` and `response.flags` Envoy 1.40
/// gives filters for it (the same in wasmesh).
const EXPECTED: &[(&str, u16, &str, &str)] = &[
    ("upstream answered", 200, "via_upstream", "0"),
    ("upstream answered 503", 503, "via_upstream", "0"),
    ("route timeout", 504, "response_timeout", "4"),
    (
        "connection refused",
        503,
        "upstream_reset_before_response_started{remote_connection_failure|delayed_connect_error:_Connection_refused}",
        "32",
    ),
    ("no route", 404, "route_not_found", "256"),
    (
        "circuit breaker",
        503,
        "upstream_reset_before_response_started{overflow}",
        "128",
    ),
    ("stream idle timeout", 504, "stream_idle_timeout", "65536"),
    ("malformed chunked body", 400, "http1.codec_error", "0"),
];

/// Each kind of answer, from the upstream or from the proxy for a failure on either side:
/// the status, details and flags a filter reads are Envoy's.
pub fn failures_are_attributed_as_envoy_does(kind: ProxyKind) {
    let seen = observed(kind);
    let expected: Vec<(String, u16, String, String)> = EXPECTED
        .iter()
        .map(|(what, status, details, flags)| {
            (
                what.to_string(),
                *status,
                details.to_string(),
                flags.to_string(),
            )
        })
        .collect();
    assert_eq!(seen, expected, "{}", kind.name());
}

/// (what happened, status, code details, flags) for each kind of answer, as a host reports them.
fn observed(kind: ProxyKind) -> Vec<(String, u16, String, String)> {
    let filters = build_filters();
    let ok = Backend::start(BACKEND);
    let slow = Backend::start("slow").with_delay(Duration::from_secs(3));
    let refused = {
        let socket = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
        socket.local_addr().expect("its address")
    };
    let plugin = Plugin::new(PLUGIN, &filters.abi_test)
        .root_id(ROOT_ID)
        .vm_id(VM_ID)
        .configuration(json!({}));
    let one_at_a_time = CircuitBreakers {
        max_connections: 10,
        max_pending_requests: 10,
        max_requests: 1,
    };
    let config = MeshConfig::new()
        .plugin(plugin)
        .cluster(Cluster::fixed("ok", [ok.addr]))
        .cluster(Cluster::fixed("slow", [slow.addr]))
        .cluster(Cluster::fixed("capped", [slow.addr]).circuit_breakers(one_at_a_time))
        .cluster(Cluster::fixed("refused", [refused]))
        .listener(
            Listener::new("main")
                .filter(PLUGIN)
                .route(Route::prefix("/ok", "ok"))
                .route(Route::prefix("/status", "ok"))
                .route(Route::prefix("/slow", "slow").timeout_ms(300))
                .route(Route::prefix("/capped", "capped"))
                .route(Route::prefix("/refused", "refused")),
        )
        .listener(
            Listener::new("idle")
                .filter(PLUGIN)
                .stream_idle_timeout_ms(300)
                .route(Route::prefix("/", "slow").timeout_ms(0)),
        );
    let proxy = kind.start(&config);
    let mut seen = Vec::new();
    let mut record = |what: &str, response: Response| {
        let header = |name: &str| response.header(name).unwrap_or("<none>").to_string();
        seen.push((
            what.to_string(),
            response.status.as_u16(),
            header("x-abi-prop-code-details"),
            header("x-abi-prop-flags"),
        ));
    };
    for (what, path) in [
        ("upstream answered", "/ok"),
        ("upstream answered 503", "/status/503"),
        ("route timeout", "/slow"),
        ("connection refused", "/refused"),
        ("no route", "/nowhere"),
    ] {
        record(what, client::get(&proxy.url("main", path), &[CASE]));
    }
    let holding = std::thread::spawn({
        let url = proxy.url("main", "/capped/held");
        move || client::get(&url, &[])
    });
    std::thread::sleep(Duration::from_millis(500));
    record(
        "circuit breaker",
        client::get(&proxy.url("main", "/capped"), &[CASE]),
    );
    record(
        "stream idle timeout",
        client::get(&proxy.url("idle", "/"), &[CASE]),
    );
    let held = holding.join().expect("the request holding the breaker");
    assert_eq!(
        held.status,
        200,
        "{}: the request that held the breaker",
        kind.name()
    );
    let malformed = format!(
        "POST /ok HTTP/1.1\r\nhost: x\r\n{}: {}\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
        CASE.0, CASE.1
    );
    let answer = raw::exchange(
        proxy.listener("main"),
        malformed.as_bytes(),
        Duration::from_secs(3),
    );
    let text = String::from_utf8_lossy(&answer).to_string();
    let header = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .unwrap_or("<none>")
            .to_string()
    };
    seen.push((
        "malformed chunked body".to_string(),
        raw::status_code(&answer).unwrap_or(0),
        header("x-abi-prop-code-details"),
        header("x-abi-prop-flags"),
    ));
    seen
}
