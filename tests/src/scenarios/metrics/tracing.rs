//! Trace headers as the upstream sees them, and the access-log line in the proxy's log.

use serde_json::{json, Value};
use wasmesh_common::metrics::trace::TraceParent;

use super::Rig;
use crate::{poll_until, Proxy, ProxyKind};

/// The W3C spec's example.
const INCOMING: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// `GET /users/7` with `headers`; the `traceparent` the backend received, parsed.
fn upstream_traceparent(rig: &Rig, headers: &[(&str, &str)]) -> (TraceParent, crate::client::Echo) {
    let host = rig.proxy.kind.name();
    let response = rig.client.get(&rig.proxy.url("main", "/users/7"), headers);
    assert_eq!(response.status, 200, "{host}: {}", response.text());
    let echo = response.echo();
    let value = echo
        .header("traceparent")
        .unwrap_or_else(|| panic!("{host}: no traceparent upstream: {:?}", echo.headers));
    let parsed = TraceParent::parse(value)
        .unwrap_or_else(|| panic!("{host}: invalid traceparent upstream: {value:?}"));
    (parsed, echo)
}

/// A valid incoming `traceparent` keeps its trace id and flags; the upstream gets a new parent
/// id (the proxy's span), different from the client's.
pub fn traceparent_is_continued_with_a_new_span(kind: ProxyKind) {
    let host = kind.name();
    let rig = Rig::start(kind, json!({}));
    let incoming = TraceParent::parse(INCOMING).expect("the spec example parses");
    let (upstream, _) = upstream_traceparent(&rig, &[("traceparent", INCOMING)]);
    assert_eq!(
        upstream.trace_id, incoming.trace_id,
        "{host}: trace id kept"
    );
    assert_eq!(upstream.flags, incoming.flags, "{host}: flags kept");
    assert_ne!(upstream.parent_id, incoming.parent_id, "{host}: a new span");
    let unsampled = INCOMING.replace("-01", "-00");
    let (upstream, _) = upstream_traceparent(&rig, &[("traceparent", &unsampled)]);
    assert_eq!(
        upstream.flags, 0,
        "{host}: an unsampled trace stays unsampled"
    );
}

/// Without a `traceparent`, or with an invalid one, the upstream gets a new sampled trace
/// (different on every request), and an `x-request-id`.
pub fn traceparent_is_started_when_absent_or_invalid(kind: ProxyKind) {
    let host = kind.name();
    let rig = Rig::start(kind, json!({}));
    let (first, echo) = upstream_traceparent(&rig, &[]);
    let (second, _) = upstream_traceparent(&rig, &[]);
    assert_eq!(first.flags, 1, "{host}: a new trace is sampled");
    assert_ne!(
        first.trace_id, second.trace_id,
        "{host}: a new trace per request"
    );
    let zeros = "00-00000000000000000000000000000000-00f067aa0ba902b7-01";
    for bad in ["garbage", zeros] {
        let (upstream, echo) = upstream_traceparent(&rig, &[("traceparent", bad)]);
        assert_ne!(echo.header("traceparent"), Some(bad), "{host}");
        assert_eq!(upstream.flags, 1, "{host}: {bad:?} replaced by a new trace");
    }
    let request_id = echo.header("x-request-id").unwrap_or_default();
    assert_eq!(request_id.len(), 36, "{host}: x-request-id {request_id:?}");
}

/// One JSON line per request in the proxy's log, naming the request id and trace id the
/// upstream received, the method, path, status, route, endpoint and classification.
pub fn access_log_line_names_the_request(kind: ProxyKind) {
    let host = kind.name();
    let rig = Rig::start(kind, json!({ "access_log": true }));
    let (trace, echo) = upstream_traceparent(&rig, &[]);
    let request_id = echo
        .header("x-request-id")
        .unwrap_or_else(|| panic!("{host}: no x-request-id upstream: {:?}", echo.headers))
        .to_string();
    let line = poll_until(
        &format!("{host}: the access-log line of {request_id}"),
        std::time::Duration::from_secs(5),
        || find_log_line(&rig.proxy, &request_id).ok_or_else(|| rig.proxy.logs()),
    );
    let endpoint = rig.backend.addr.to_string();
    let trace_id = trace.trace_id_hex();
    for (field, want) in [
        ("method", json!("GET")),
        ("path", json!("/users/7")),
        ("status", json!(200)),
        ("route", json!("users")),
        ("classification", json!("success")),
        ("direction", json!("inbound")),
        ("endpoint", json!(endpoint)),
        ("trace_id", json!(trace_id)),
        ("authority", json!(rig.authority())),
        ("peer_identity", json!("")),
    ] {
        assert_eq!(line[field], want, "{host}: {field} in {line}");
    }
    assert!(line["latency_ms"].is_u64(), "{host}: latency_ms in {line}");
}

/// The access-log JSON object naming `request_id`, from the proxy's log.
pub(crate) fn find_log_line(proxy: &Proxy, request_id: &str) -> Option<Value> {
    let needle = format!("\"request_id\":\"{request_id}\"");
    let logs = proxy.logs();
    let line = logs.lines().find(|l| l.contains(&needle))?;
    let start = line.find("{\"method\"")?;
    let end = line.rfind('}')?;
    serde_json::from_str(&line[start..=end]).ok()
}
