use super::*;

#[test]
fn the_line_is_one_json_object_with_every_field() {
    let line = AccessLog {
        method: "GET",
        authority: "web",
        path: "/users/7?x=\"1\"",
        status: 200,
        latency_ms: 12,
        endpoint: "10.0.0.1:80",
        request_id: "rid",
        trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
        route: "users",
        classification: "success",
        direction: "inbound",
        peer_identity: "spiffe://example.org/ns/default/sa/web",
    }
    .line();
    assert!(!line.contains('\n'));
    let value: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(value["path"], "/users/7?x=\"1\"");
    assert_eq!(value["status"], 200);
    assert_eq!(value["latency_ms"], 12);
    for field in [
        "method",
        "authority",
        "endpoint",
        "request_id",
        "trace_id",
        "route",
        "classification",
        "direction",
        "peer_identity",
    ] {
        assert!(value[field].is_string(), "{field} in {line}");
    }
}
