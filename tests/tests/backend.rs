//! The echo backend on its own (no proxy): what the end-to-end assertions rely on it to report.
//! Also exercises the test client over both HTTP/1.1 and h2c.

use std::time::{Duration, Instant};

use wasmesh_tests::client::{self, Client};
use wasmesh_tests::{raw, Backend};

#[test]
fn echoes_the_request() {
    let backend = Backend::start("b7");
    let response = client::post(
        &format!("{}/some/path?a=1&b=2", backend.url()),
        &[
            ("X-Mixed-Case", "v1"),
            ("x-repeated", "1"),
            ("x-repeated", "2"),
        ],
        "hello body",
    );
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert_eq!(response.header("server"), Some("wasmesh-backend"));
    assert_eq!(response.header("x-backend"), Some("b7"));
    let echo = response.echo();
    assert_eq!(echo.backend, "b7");
    assert_eq!(echo.method, "POST");
    assert_eq!(echo.path, "/some/path?a=1&b=2");
    assert_eq!(echo.body, "hello body");
    assert_eq!(echo.header("x-mixed-case"), Some("v1"));
    assert_eq!(echo.header("x-repeated"), Some("1, 2"));
    assert_eq!(backend.requests_seen(), 1);
}

#[test]
fn status_bytes_and_delay() {
    let backend = Backend::start("b1");
    let url = |path: &str| format!("{}{path}", backend.url());
    let teapot = client::get(&url("/status/418"), &[]);
    assert_eq!(teapot.status, 418);
    assert_eq!(teapot.echo().path, "/status/418");
    let empty = client::get(&url("/status/204"), &[]);
    assert_eq!(empty.status, 204);
    assert!(empty.body.is_empty());
    let bytes = client::get(&url("/bytes?n=1000"), &[]);
    assert_eq!(bytes.body.len(), 1000);
    let start = Instant::now();
    let delayed = client::get(&url("/delay?ms=200"), &[]);
    assert_eq!(delayed.status, 200);
    assert!(start.elapsed() >= Duration::from_millis(200));
}

#[test]
fn streams_chunks_over_http1_and_h2c() {
    let backend = Backend::start("b1");
    let url = format!("{}/stream?chunks=3&ms=5", backend.url());
    let expected = "chunk 0\nchunk 1\nchunk 2\n";
    let h1 = client::get(&url, &[]);
    assert_eq!(h1.header("transfer-encoding"), Some("chunked"));
    assert_eq!(h1.text(), expected);
    let h2 = Client::http2().get(&url, &[]);
    assert_eq!(h2.version, http::Version::HTTP_2);
    assert_eq!(h2.text(), expected);
}

#[test]
fn bad_http_gets_400() {
    let backend = Backend::start("b1");
    let reply = raw::exchange(
        backend.addr,
        b"GET / HTTP/1.1\r\nBad Header\r\n\r\n",
        Duration::from_secs(5),
    );
    assert_eq!(
        raw::status_code(&reply),
        Some(400),
        "{}",
        String::from_utf8_lossy(&reply)
    );
    assert_eq!(backend.requests_seen(), 0);
}

#[test]
fn stops_on_drop() {
    let backend = Backend::start("b1");
    let addr = backend.addr;
    drop(backend);
    let result = Client::http1().get_checked(&format!("http://{addr}/"));
    assert!(
        result.is_err(),
        "a dropped backend still answered: {result:?}"
    );
}

#[test]
fn extra_delay_holds_every_answer() {
    const DELAY: Duration = Duration::from_millis(150);
    let backend = Backend::start("slow").with_delay(DELAY);
    assert_eq!(backend.delay(), DELAY);
    for path in ["/", "/status/418"] {
        let start = Instant::now();
        let response = client::get(&format!("{}{path}", backend.url()), &[]);
        assert_ne!(response.status, 0, "{path}");
        assert_eq!(response.echo().backend, "slow", "{path}");
        assert!(
            start.elapsed() >= DELAY,
            "{path} answered after {:?}, before the extra {DELAY:?}",
            start.elapsed()
        );
    }
    assert_eq!(backend.requests_seen(), 2);
    // Turned off while serving: answers are prompt again (well under the delay, with room for a
    // loaded machine).
    backend.set_delay(Duration::ZERO);
    let start = Instant::now();
    assert_eq!(client::get(&backend.url(), &[]).status, 200);
    assert!(start.elapsed() < DELAY * 10, "{:?}", start.elapsed());
}
