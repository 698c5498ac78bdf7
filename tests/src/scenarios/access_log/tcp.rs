//! A TCP listener's access log, the same in both hosts (Envoy's `tcp_proxy` `access_log`): one
//! entry per connection when it closes, with its bytes each way, its duration, the upstream it
//! was relayed to, and `UF,URX` when that upstream refused; the HTTP operators have no value.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

use serde_json::Value;

use super::{log_in, refusing_address};
use crate::{poll_until, Cluster, Listener, MeshConfig, ProxyKind, TcpEcho};

/// Sends `bytes` on a connection to `addr`, ends its side and reads what comes back until the
/// proxy closes.
fn exchange(addr: std::net::SocketAddr, bytes: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("connecting to {addr}: {e}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("a read timeout");
    // The refusing listener's proxy may close before the bytes are written: that is fine.
    let _ = stream.write_all(bytes);
    let _ = stream.shutdown(Shutdown::Write);
    let mut back = Vec::new();
    let _ = stream.read_to_end(&mut back);
    back
}

/// `tcp_access_log_entries`: a relayed connection and a refused one, an entry each.
pub fn tcp_access_log_entries(kind: ProxyKind) {
    let echo = TcpEcho::start();
    let refusing = refusing_address();
    let (path, log) = log_in("tcp-access-log");
    let config = MeshConfig::new()
        .cluster(Cluster::fixed("echo", [echo.addr]))
        .cluster(Cluster::fixed("down", [refusing]))
        .listener(Listener::tcp("tcp", "echo").access_log(log.clone()))
        .listener(Listener::tcp("down", "down").access_log(log));
    let proxy = kind.start(&config);
    let back = exchange(proxy.listener("tcp"), b"hello, relay\n");
    assert_eq!(back, b"hello, relay\n", "{kind:?}: the echo came back");
    let entries = read_entries(kind, &path, 1);
    assert_eq!(exchange(proxy.listener("down"), b"lost\n"), b"", "{kind:?}");
    let entries = [entries, read_entries(kind, &path, 2).split_off(1)].concat();
    let relayed = &entries[0];
    let what = format!("{kind:?}: {relayed}");
    assert_eq!(relayed["received"], 13, "{what}");
    assert_eq!(relayed["sent"], 13, "{what}");
    assert_eq!(relayed["upstream"], echo.addr.to_string(), "{what}");
    assert_eq!(relayed["flags"], "-", "{what}");
    let refused = &entries[1];
    let what = format!("{kind:?}: {refused}");
    // Envoy's `tcp_proxy` makes one connect attempt and says the attempts ran out.
    assert_eq!(refused["flags"], "UF,URX", "{what}");
    assert_eq!(refused["upstream"], refusing.to_string(), "{what}");
    assert_eq!(refused["sent"], 0, "{what}");
    for entry in &entries {
        let what = format!("{kind:?}: {entry}");
        for http_only in ["method", "path", "request_id", "agent"] {
            assert_eq!(entry[http_only], Value::Null, "{what}: {http_only}");
        }
        assert_eq!(entry["protocol"], Value::Null, "{what}");
        assert_eq!(entry["code"], 0, "{what}");
        assert_eq!(entry["summary"], "- 0 -", "{what}");
        assert!(entry["duration"].is_u64(), "{what}");
        assert_eq!(entry["remote"], "127.0.0.1", "{what}");
        let start = entry["start"].as_str().unwrap_or_default();
        assert!(start.len() == 24 && start.ends_with('Z'), "{what}");
    }
}

/// The first `n` entries of the log at `path`, once it has them.
fn read_entries(kind: ProxyKind, path: &std::path::Path, n: usize) -> Vec<Value> {
    poll_until(
        &format!("{kind:?}: {n} entries in {}", path.display()),
        Duration::from_secs(10),
        || {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            let lines: Vec<Value> = text
                .lines()
                .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
                .collect();
            (lines.len() >= n).then_some(lines).ok_or(text)
        },
    )
}
