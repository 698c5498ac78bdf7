//! gRPC calls and streams from a filter (`proxy_grpc_*`, the abi-test guest's `grpc-call` and
//! `grpc-stream` cases) to a real gRPC server (`tests/grpc/server.py`, Python grpcio), in both
//! hosts with the same assertions: what the filter's callbacks saw, in order.

use serde_json::{json, Value};

use super::abi::Abi;
use crate::{Cluster, GrpcServer, ProxyKind, SlowRelay};

/// The cluster of the gRPC server (h2c), as both hosts name it.
pub const GRPC_CLUSTER: &str = "grpc";
/// A cluster whose only endpoint refuses connections (h2c).
pub const DOWN_CLUSTER: &str = "grpc_down";
/// A cluster whose only endpoint takes connections and never answers (h2c).
pub const SILENT_CLUSTER: &str = "grpc_silent";
/// The gRPC server behind a relay that holds what the proxy sends for [`LATE_MS`] (h2c).
pub const LATE_CLUSTER: &str = "grpc_late";
/// How long the server sees each request late.
const LATE_MS: u64 = 150;

/// The guest in front of the echo backend, with the gRPC server's cluster.
pub struct GrpcRig {
    /// The host with the abi-test guest (dropped first).
    pub abi: Abi,
    _server: GrpcServer,
    /// Bound and never accepted from: the kernel completes each handshake into the backlog,
    /// and nothing ever reads or answers.
    _silent: std::net::TcpListener,
    _late: SlowRelay,
}

impl GrpcRig {
    /// Starts the server, then `kind` with clusters for it and for a refusing endpoint.
    pub fn start(kind: ProxyKind) -> GrpcRig {
        let server = GrpcServer::start();
        let refusing = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
            listener.local_addr().expect("its address")
        };
        let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        let silent_addr = silent.local_addr().expect("its address");
        let late = SlowRelay::start(server.addr, std::time::Duration::from_millis(LATE_MS));
        let abi = Abi::start_with(
            kind,
            vec![
                Cluster::fixed(GRPC_CLUSTER, [server.addr]).http2(),
                Cluster::fixed(DOWN_CLUSTER, [refusing]).http2(),
                Cluster::fixed(SILENT_CLUSTER, [silent_addr]).http2(),
                Cluster::fixed(LATE_CLUSTER, [late.addr]).http2(),
            ],
        );
        GrpcRig {
            abi,
            _server: server,
            _silent: silent,
            _late: late,
        }
    }

    /// The JSON reply of `case` with `x-abi-upstream: upstream` and `headers`.
    pub fn case(&self, case: &str, upstream: &str, headers: &[(&str, &str)]) -> Value {
        let mut all = vec![("x-abi-upstream", upstream)];
        all.extend_from_slice(headers);
        self.abi.json_case(case, "/", &all)
    }
}

/// The reply the server gives a `Unary` call with `text`.
fn unary_reply(text: &str) -> Value {
    json!({
        "text": text,
        "method": "/wasmesh.test.Echo/Unary",
        "metadata": [
            r"x-abi-md-bin=b'\x00\x01\x02\xff'", "x-abi-md=call",
            "x-envoy-expected-rq-timeout-ms=5000", "x-envoy-internal=true",
        ],
        "sequence": 1,
    })
}

/// A unary call gets one callback with the server's message, the target named by cluster or
/// by a serialized `GrpcService` (as the C++ SDK names it).
pub fn unary_call(kind: ProxyKind) {
    let rig = GrpcRig::start(kind);
    for target in ["name", "proto"] {
        let got = rig.case(
            "grpc-call",
            GRPC_CLUSTER,
            &[("x-abi-grpc-text", "hi"), ("x-abi-grpc-target", target)],
        );
        let size = got["size"].as_u64().unwrap_or(0);
        assert!(size > 0, "{kind:?} {target}: {got}");
        assert_eq!(
            got,
            json!({
                "dispatch": "Ok", "same_token": true, "token_kind": 1, "status_code": 0,
                "size": size, "reply": unary_reply("hi"), "get_status": null,
            }),
            "{kind:?}: target by {target}"
        );
    }
}

/// A call the server fails gets one close callback with the server's status and message.
pub fn unary_call_fails(kind: ProxyKind) {
    let rig = GrpcRig::start(kind);
    let got = rig.case(
        "grpc-call",
        GRPC_CLUSTER,
        &[("x-abi-grpc-fail", "7:not for you")],
    );
    assert_eq!(
        got,
        json!({
            "dispatch": "Ok", "same_token": true, "token_kind": 1, "status_code": 7,
            "size": 0, "reply": null, "get_status": {"code": 7, "message": "not for you{via_upstream}"},
        }),
        "{kind:?}"
    );
}

/// The router's words for a refused connection, as a gRPC reply's `grpc-message`.
const REFUSED: &str =
    "upstream connect error or disconnect/reset before headers. reset reason: remote connection failure";
/// Its details, which the close's message carries after the words.
const REFUSED_DETAILS: &str = "{upstream_reset_before_response_started{remote_connection_failure|delayed_connect_error:_Connection_refused}}";

/// A call to an endpoint that refuses connections closes with `UNAVAILABLE` and the router's
/// words and details.
pub fn unary_call_unreachable(kind: ProxyKind) {
    let rig = GrpcRig::start(kind);
    let got = rig.case("grpc-call", DOWN_CLUSTER, &[]);
    assert_eq!(
        got,
        json!({
            "dispatch": "Ok", "same_token": true, "token_kind": 1, "status_code": 14,
            "size": 0, "reply": null,
            "get_status": {"code": 14, "message": format!("{REFUSED}{REFUSED_DETAILS}")},
        }),
        "{kind:?}"
    );
}

/// A call whose server never answers closes, when its timeout passes, as Envoy's router answers
/// a gRPC request it timed out: trailers-only `UNAVAILABLE`, "upstream request timeout".
pub fn unary_call_times_out(kind: ProxyKind) {
    let rig = GrpcRig::start(kind);
    let started = std::time::Instant::now();
    let got = rig.case(
        "grpc-call",
        SILENT_CLUSTER,
        &[("x-abi-grpc-timeout", "200")],
    );
    let took = started.elapsed();
    assert!(
        took < std::time::Duration::from_millis(2500),
        "{kind:?}: took {took:?}"
    );
    assert_eq!(
        got,
        json!({
            "dispatch": "Ok", "same_token": true, "token_kind": 1, "status_code": 14,
            "size": 0, "reply": null,
            "get_status": {"code": 14, "message": "upstream request timeout{response_timeout}"},
        }),
        "{kind:?}"
    );
}

/// A call whose server sent its headers and then runs past the timeout closes with `INTERNAL`
/// and `response_timeout` when the timeout passes (the router can only reset the stream by
/// then). The server sees the request [`LATE_MS`] late, so the `grpc-timeout` it enforces
/// itself ends that much after the proxy's: the proxy's own timer closes the call.
pub fn unary_call_times_out_after_headers(kind: ProxyKind) {
    let rig = GrpcRig::start(kind);
    let started = std::time::Instant::now();
    let got = rig.case(
        "grpc-call",
        LATE_CLUSTER,
        &[("x-abi-grpc-delay", "3000"), ("x-abi-grpc-timeout", "800")],
    );
    let took = started.elapsed();
    assert!(
        took < std::time::Duration::from_millis(2500),
        "{kind:?}: took {took:?}"
    );
    assert_eq!(
        got,
        json!({
            "dispatch": "Ok", "same_token": true, "token_kind": 1, "status_code": 13,
            "size": 0, "reply": null,
            "get_status": {"code": 13, "message": "response_timeout"},
        }),
        "{kind:?}"
    );
}

/// The events a `Chat` stream gives for `texts` (each answered `replies` times) and its close.
fn chat_events(texts: &[&str], replies: u32) -> Vec<Value> {
    let mut events = vec![json!({
        "initial": {"x-echo-initial": "chat", "content-type": "application/grpc"},
        "empty": false, "token_kind": 2,
    })];
    let mut sequence = 0;
    for text in texts {
        for _ in 0..replies {
            sequence += 1;
            events.push(json!({"message": {
                "text": text, "method": "/wasmesh.test.Echo/Chat",
                "metadata": ["x-abi-md=stream", "x-envoy-internal=true"], "sequence": sequence,
            }}));
        }
    }
    events
}

/// A bidirectional stream: initial metadata, every reply as it comes, trailing metadata, then
/// the close, whether the filter ends its side with `proxy_grpc_close` or with the last send.
pub fn stream_chat(kind: ProxyKind) {
    let rig = GrpcRig::start(kind);
    for end in ["close", "send"] {
        let got = rig.case(
            "grpc-stream",
            GRPC_CLUSTER,
            &[
                ("x-abi-grpc-messages", "one,two"),
                ("x-abi-grpc-replies", "2"),
                ("x-abi-grpc-end", end),
            ],
        );
        let mut events = chat_events(&["one", "two"], 2);
        events.push(json!({"trailing": {
            "x-echo-trailing": "chat 4", "grpc-status": "0", "grpc-message": "",
        }, "empty": false}));
        events.push(json!({"close": 0, "get_status": {"code": 0, "message": "via_upstream"}}));
        assert_eq!(
            got,
            json!({"open": "Ok", "events": events}),
            "{kind:?}: end by {end}"
        );
    }
}

/// A stream the server fails: the replies before, then its status in the trailing metadata and
/// the close.
pub fn stream_fails(kind: ProxyKind) {
    let rig = GrpcRig::start(kind);
    let got = rig.case(
        "grpc-stream",
        GRPC_CLUSTER,
        &[
            ("x-abi-grpc-messages", "one,two"),
            ("x-abi-grpc-fail", "5:gone away"),
        ],
    );
    let mut events = chat_events(&["one"], 1);
    events.push(json!({"trailing": {
        "x-echo-trailing": "failed", "grpc-status": "5", "grpc-message": "gone away",
    }, "empty": false}));
    events
        .push(json!({"close": 5, "get_status": {"code": 5, "message": "gone away{via_upstream}"}}));
    assert_eq!(got, json!({"open": "Ok", "events": events}), "{kind:?}");
}

/// A stream the filter cancels after the first reply: no callback follows.
pub fn stream_cancel(kind: ProxyKind) {
    let rig = GrpcRig::start(kind);
    let got = rig.case(
        "grpc-stream",
        GRPC_CLUSTER,
        &[
            ("x-abi-grpc-messages", "one,two,three"),
            ("x-abi-grpc-end", "cancel"),
        ],
    );
    let mut events = chat_events(&["one"], 1);
    events.push(json!({"cancel": "Ok"}));
    assert_eq!(got, json!({"open": "Ok", "events": events}), "{kind:?}");
    // Nothing reaches the guest after the cancel: a later request is answered normally.
    let again = rig.case("grpc-call", GRPC_CLUSTER, &[("x-abi-grpc-text", "after")]);
    assert_eq!(again["reply"], unary_reply("after"), "{kind:?}");
}

/// A stream to an endpoint that refuses connections: empty initial metadata, the router's
/// trailers-only reply as trailing metadata, then `UNAVAILABLE`.
pub fn stream_unreachable(kind: ProxyKind) {
    let rig = GrpcRig::start(kind);
    let got = rig.case("grpc-stream", DOWN_CLUSTER, &[]);
    let events = json!([
        {"initial": {"x-echo-initial": null, "content-type": null}, "empty": true, "token_kind": 2},
        {"trailing": {"x-echo-trailing": null, "grpc-status": "14", "grpc-message": REFUSED},
         "empty": false},
        {"close": 14, "get_status": {"code": 14, "message": format!("{REFUSED}{REFUSED_DETAILS}")}},
    ]);
    assert_eq!(got, json!({"open": "Ok", "events": events}), "{kind:?}");
}

/// A filter that asks Envoy's rate-limit service about every request before letting it on
/// (Kuadrant's and Envoy's rate-limit pattern; the abi-test guest's `grpc-ratelimit` case, the
/// real `RateLimitService/ShouldRateLimit` messages): allowed users reach the backend, a
/// blocked one gets the filter's 429, and an unreachable service fails closed with 503.
pub fn rate_limit_service(kind: ProxyKind) {
    let rig = GrpcRig::start(kind);
    let ask = |upstream: &str, user: &str| {
        rig.abi.get(
            "grpc-ratelimit",
            "/limited",
            &[("x-abi-upstream", upstream), ("x-abi-user", user)],
        )
    };
    let allowed = ask(GRPC_CLUSTER, "alice");
    assert_eq!(allowed.status, 200, "{kind:?}: {}", allowed.text());
    let echo: Value = serde_json::from_slice(&allowed.body).expect("the echo backend's JSON");
    assert_eq!(
        echo["headers"]["x-abi-ratelimit"],
        json!("ok"),
        "{kind:?}: {echo}"
    );
    assert_eq!(echo["path"], json!("/limited"), "{kind:?}: {echo}");
    let blocked = ask(GRPC_CLUSTER, "blocked");
    assert_eq!(blocked.status, 429, "{kind:?}: {}", blocked.text());
    assert_eq!(
        blocked.header("x-abi-ratelimit"),
        Some("over-limit"),
        "{kind:?}"
    );
    assert_eq!(blocked.text(), "over limit", "{kind:?}");
    let down = ask(DOWN_CLUSTER, "alice");
    assert_eq!(down.status, 503, "{kind:?}: {}", down.text());
    assert_eq!(down.header("x-abi-ratelimit"), Some("error"), "{kind:?}");
    assert_eq!(down.text(), "rate limit service: status 14", "{kind:?}");
}
