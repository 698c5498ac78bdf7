use super::*;

fn info() -> StreamInfo {
    let client = "10.0.0.1:40000".parse().unwrap();
    let listener = "127.0.0.1:10000".parse().unwrap();
    StreamInfo::new(client, listener, "HTTP/1.1", false)
}

fn map(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.add(name.as_bytes(), value.as_bytes());
    }
    map
}

#[test]
fn nothing_is_known_before_its_event() {
    let info = info();
    assert!(info.request_headers().is_none());
    assert!(info.response_headers().is_none());
    assert_eq!(&*info.route_name(), "");
    assert_eq!(info.upstream(), None);
    assert_eq!(info.response_code(), None);
    assert_eq!(&*info.code_details(), "");
    assert_eq!(info.response_flags(), 0);
    assert_eq!(
        (info.request_body_bytes(), info.response_body_bytes()),
        (0, 0)
    );
}

#[test]
fn the_answer_sets_code_details_and_flags_and_a_rewritten_status_wins() {
    let info = info();
    info.answered(504, "response_timeout");
    assert_eq!(info.response_code(), Some(504));
    assert_eq!(&*info.code_details(), "response_timeout");
    assert_eq!(
        info.response_flags(),
        response_flags::UPSTREAM_REQUEST_TIMEOUT
    );
    // A response filter turned it into a 503: `response.code` follows the headers as they
    // left the phase; the details stay the answer's.
    info.response_headers_ended(map(&[(":status", "503")]));
    assert_eq!(info.response_code(), Some(503));
    assert_eq!(&*info.code_details(), "response_timeout");
}

#[test]
fn events_are_recorded_as_they_happen() {
    let info = info();
    info.request_headers_ended(map(&[(":path", "/x")]));
    info.routed("main.0".into());
    info.upstream_picked("10.0.0.9:8080".parse().unwrap());
    info.request_body_received(3);
    info.request_body_received(4);
    info.response_body_sent(10);
    assert_eq!(
        info.request_headers().as_ref().unwrap().get_str(":path"),
        Some("/x")
    );
    assert_eq!(&*info.route_name(), "main.0");
    assert_eq!(info.upstream(), Some("10.0.0.9:8080".parse().unwrap()));
    assert_eq!(info.request_body_bytes(), 7);
    assert_eq!(info.response_body_bytes(), 10);
}
