use super::*;

fn head(raw: &[(&str, &str)], method: Method, version: Version) -> Parts {
    let mut builder = http::Request::builder()
        .method(method)
        .version(version)
        .uri("/");
    for (name, value) in raw {
        builder = builder.header(*name, *value);
    }
    builder.body(()).unwrap().into_parts().0
}

/// The default `max_request_headers_kb` (60) in bytes.
const LIMIT: usize = 60 * 1024;

fn h11(raw: &[(&str, &str)]) -> Result<(), Refusal> {
    check(&head(raw, Method::GET, Version::HTTP_11), LIMIT)
}

#[test]
fn an_ordinary_request_passes() {
    assert_eq!(h11(&[("host", "example.com:8080")]), Ok(()));
    assert_eq!(
        h11(&[("host", "127.0.0.1"), ("transfer-encoding", "chunked")]),
        Ok(())
    );
    assert_eq!(h11(&[("host", "[::1]:80")]), Ok(()));
    assert_eq!(
        h11(&[("host", "x"), ("upgrade", "h2c")]),
        Ok(()),
        "an h2c offer is dropped"
    );
    assert_eq!(
        check(&head(&[], Method::GET, Version::HTTP_10), LIMIT),
        Ok(()),
        "HTTP/1.0 needs no Host"
    );
    assert_eq!(
        check(&head(&[], Method::GET, Version::HTTP_2), LIMIT),
        Ok(())
    );
}

#[test]
fn transfer_codings_other_than_chunked_are_not_implemented() {
    for coding in ["gzip, chunked", "chunked, chunked", "gzip"] {
        let refused = h11(&[("host", "x"), ("transfer-encoding", coding)]);
        assert_eq!(refused.map_err(|r| r.status), Err(501), "{coding}");
    }
}

#[test]
fn host_must_be_present_once_and_be_a_host() {
    assert_eq!(h11(&[]).map_err(|r| r.status), Err(400));
    for bad in ["a<b>c", "exa mple", "host:port", "[zz]:1", "", "a:1:2"] {
        assert_eq!(
            h11(&[("host", bad)]).map_err(|r| r.status),
            Err(400),
            "{bad:?}"
        );
    }
    assert_eq!(
        h11(&[("host", "a"), ("host", "b")]).map_err(|r| r.status),
        Err(400),
        "two Hosts"
    );
}

#[test]
fn connect_and_upgrades_but_websocket_are_refused() {
    let connect = check(
        &head(&[("host", "x:1")], Method::CONNECT, Version::HTTP_11),
        LIMIT,
    );
    assert_eq!(connect.map_err(|r| r.status), Err(404));
    let upgrade = h11(&[("host", "x"), ("upgrade", "spdy/3")]);
    assert_eq!(upgrade.map_err(|r| r.status), Err(403));
    // The matched route decides on WebSocket (see upgrade.rs).
    let websocket = h11(&[("host", "x"), ("upgrade", "websocket")]);
    assert_eq!(websocket, Ok(()));
}

#[test]
fn a_head_past_the_limit_is_431_whatever_hyper_let_through() {
    let just_under = "a".repeat(LIMIT - 100);
    assert_eq!(h11(&[("host", "x"), ("x-big", &just_under)]), Ok(()));
    let over = "a".repeat(LIMIT + 1024);
    let refused = h11(&[("host", "x"), ("x-big", &over)]);
    assert_eq!(refused.map_err(|r| r.status), Err(431));
}
