//! The proxy's connections to a backend, as the backend sees them: kept open and used again
//! for the next request, and never used once the backend has closed them (servers close idle
//! keep-alive connections without saying so in the response).

use std::time::Duration;

use crate::raw::Http1Connection;
use crate::static_server::{Answer, StaticServer};
use crate::{MeshConfig, ProxyKind};

/// How long one exchange on the client's connection may take: far beyond any answer here.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// `n` requests for `/r`, one after another on one client connection (so on one worker), each
/// answered 200 `ok`; `pause` between them.
fn requests_on_one_connection(kind: ProxyKind, server: &StaticServer, n: usize, pause: Duration) {
    let host = kind.name();
    let proxy = kind.start(&MeshConfig::single(vec![], [server.addr]));
    let mut conn = Http1Connection::connect(proxy.listener("main"), READ_TIMEOUT);
    for i in 0..n {
        std::thread::sleep(pause);
        let response = conn
            .exchange(b"GET /r HTTP/1.1\r\nhost: example.test\r\n\r\n")
            .unwrap_or_else(|e| panic!("{host}: request {i}: {e}"));
        assert_eq!(
            response.status,
            200,
            "{host}: request {i}: {}",
            String::from_utf8_lossy(&response.body)
        );
        assert_eq!(response.body, b"ok", "{host}: request {i}");
    }
}

/// 20 requests one after another reach the backend on one connection.
pub fn upstream_connections_are_used_again(kind: ProxyKind) {
    let server = StaticServer::start(vec![("/r", Answer::Bytes(b"ok".to_vec()))]);
    requests_on_one_connection(kind, &server, 20, Duration::ZERO);
    assert_eq!(server.requests(), 20, "{}", kind.name());
    assert_eq!(
        server.connections(),
        1,
        "{}: the backend saw a connection per request, not one kept open",
        kind.name()
    );
}

/// A backend that closes each connection 50 ms after its answer: five requests 300 ms apart
/// are all answered, each on a new connection (none is sent on a closed one and lost).
pub fn a_connection_the_backend_closed_is_not_used(kind: ProxyKind) {
    let close_after = Duration::from_millis(50);
    let server = StaticServer::start(vec![(
        "/r",
        Answer::BytesThenClose(b"ok".to_vec(), close_after),
    )]);
    requests_on_one_connection(kind, &server, 5, Duration::from_millis(300));
    assert_eq!(server.requests(), 5, "{}", kind.name());
    assert_eq!(server.connections(), 5, "{}", kind.name());
}
