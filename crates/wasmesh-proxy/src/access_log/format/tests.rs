use std::time::{Duration, UNIX_EPOCH};

use serde_json::json;
use wasmesh_host::headers::HeaderMap;
use wasmesh_host::stream_info::StreamInfo;

use super::*;

fn answered_stream() -> StreamInfo {
    let info = StreamInfo::new(
        "10.0.0.7:41000".parse().unwrap(),
        "127.0.0.1:10000".parse().unwrap(),
        "HTTP/1.1",
        false,
    );
    let mut request = HeaderMap::new();
    request.add(b":method", b"POST");
    request.add(b":path", b"/orders?id=1");
    request.add(b"user-agent", b"curl/7.88.1");
    info.request_headers_ended(request);
    info.routed("main.0".into());
    info.upstream_picked("127.0.0.1:8081".parse().unwrap());
    info.request_body_received(12);
    info.answered(503, "via_upstream");
    let mut response = HeaderMap::new();
    response.add(b":status", b"503");
    info.response_headers_ended(response);
    info.response_body_sent(7);
    info
}

fn render(format: &str, info: &StreamInfo) -> serde_json::Value {
    let mut out = String::new();
    Format::parse(format).unwrap().render_into(info, &mut out);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

#[test]
fn text_is_escaped_as_json() {
    let mut out = String::new();
    json_string("a\"b\\c\nd\u{1}é", &mut out);
    assert_eq!(
        serde_json::from_str::<String>(&out).unwrap(),
        "a\"b\\c\nd\u{1}é"
    );
}

#[test]
fn one_operator_keeps_its_type_and_a_mixed_value_is_text() {
    let info = answered_stream();
    assert_eq!(render("%RESPONSE_CODE%", &info), json!(503));
    assert_eq!(render("%BYTES_RECEIVED%", &info), json!(12));
    assert_eq!(render("%BYTES_SENT%", &info), json!(7));
    assert_eq!(render("%REQ(:METHOD)%", &info), json!("POST"));
    assert_eq!(
        render("%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%", &info),
        json!("/orders?id=1")
    );
    assert_eq!(render("%REQ(:PATH):7%", &info), json!("/orders"));
    assert_eq!(render("%REQ(X-REQUEST-ID)%", &info), json!(null));
    assert_eq!(render("%RESPONSE_FLAGS%", &info), json!("-"));
    assert_eq!(render("%UPSTREAM_HOST%", &info), json!("127.0.0.1:8081"));
    assert_eq!(
        render("%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%", &info),
        json!("10.0.0.7")
    );
    assert_eq!(render("%ROUTE_NAME%", &info), json!("main.0"));
    assert_eq!(render("%DOWNSTREAM_TLS_VERSION%", &info), json!(null));
    assert_eq!(
        render(
            "%REQ(:METHOD)% %REQ(:PATH)% -> %RESPONSE_CODE% (%REQ(X-REQUEST-ID)%) 100%%",
            &info
        ),
        json!("POST /orders?id=1 -> 503 (-) 100%")
    );
}

#[test]
fn flags_use_envoys_short_names() {
    let info = answered_stream();
    info.answered(
        503,
        "upstream_reset_before_response_started{remote_connection_failure}",
    );
    assert_eq!(render("%RESPONSE_FLAGS%", &info), json!("UF"));
    assert_eq!(
        flags(response_flags::NO_ROUTE_FOUND | response_flags::UPSTREAM_OVERFLOW),
        "UO,NR"
    );
}

#[test]
fn unknown_or_broken_operators_are_refused_by_name() {
    let error = Format::parse("%NOT_AN_OPERATOR%").unwrap_err();
    assert!(
        error.contains("%NOT_AN_OPERATOR% is not a command operator"),
        "{error}"
    );
    assert!(Format::parse("%REQ(:PATH")
        .unwrap_err()
        .contains("closing `%`"));
    assert!(Format::parse("%REQ()%")
        .unwrap_err()
        .contains("no header name"));
    assert!(Format::parse("%REQ(:PATH):x%")
        .unwrap_err()
        .contains("not a length"));
}

#[test]
fn start_time_is_utc_with_milliseconds() {
    let time = UNIX_EPOCH + Duration::from_millis(1_460_751_420_310);
    assert_eq!(rfc3339_millis(time), "2016-04-15T20:17:00.310Z");
    assert_eq!(rfc3339_millis(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
    let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
    assert_eq!(rfc3339_millis(leap), "2000-02-29T00:00:00.000Z");
}
