//! A client's fault is never an upstream's: bodies that do not parse and uploads the client
//! abandons must not count towards outlier ejection.

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use serde_json::json;

use super::{mesh, metric};
use crate::{client, raw, Backend, ProxyKind};

/// As many of each fault as would eject an endpoint five times over (consecutive 5xx: 5).
const FAULTS: usize = 12;

/// Behind `failover` → `lb` (round robin over two healthy backends): 12 POSTs whose chunked
/// body does not parse (each answered 400 in both hosts) and 12 uploads the client abandons
/// half-way; then both backends still get their share and nothing was ejected. wasmesh once
/// answered the bad bodies 503 and counted both kinds against the endpoint, and ejected it.
pub fn client_faults_eject_nothing(kind: ProxyKind) {
    let host = kind.name();
    let b1 = Backend::start("b1");
    let b2 = Backend::start("b2");
    let proxy = kind.start(&mesh(&[b1.addr, b2.addr], json!({})));
    let main = proxy.listener("main");
    for i in 0..FAULTS {
        let bad = b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\nhello\r\n0\r\n\r\n";
        let answer = raw::exchange(main, bad, Duration::from_secs(5));
        assert_eq!(
            raw::status_code(&answer),
            Some(400),
            "{host}: malformed body {i}: {}",
            String::from_utf8_lossy(&answer)
        );
    }
    for _ in 0..FAULTS {
        let mut upload = TcpStream::connect(main).expect("connecting");
        upload
            .write_all(
                b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nonly this",
            )
            .expect("writing half an upload");
        drop(upload);
    }
    let mut served = [0; 2];
    for _ in 0..20 {
        let response = client::get(&proxy.url("main", "/after"), &[]);
        assert_eq!(response.status, 200, "{host}: {}", response.text());
        match response.echo().backend.as_str() {
            "b1" => served[0] += 1,
            _ => served[1] += 1,
        }
    }
    assert!(
        served.iter().all(|n| *n >= 5),
        "{host}: an endpoint was ejected for the client's faults: b1 {}, b2 {}",
        served[0],
        served[1]
    );
    for backend in [&b1, &b2] {
        let endpoint = backend.addr.to_string();
        let ejections = metric(
            &proxy,
            "failover_ejections_total",
            &[("service", "web"), ("endpoint", endpoint.as_str())],
        );
        assert!(
            ejections.unwrap_or(0.0) == 0.0,
            "{host}: {endpoint} ejected {ejections:?} times"
        );
    }
}
