//! Raw TCP exchanges, for what a well-behaved HTTP client cannot send: malformed requests,
//! oversized headers, pipelining, early hang-ups.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// Sends `request` as is and returns everything read until the peer closes or `wait` passes.
///
/// Proxies close after answering a bad request, so this usually returns on EOF; for a valid
/// keep-alive request it returns after `wait` with the response read so far.
pub fn exchange(addr: SocketAddr, request: &[u8], wait: Duration) -> Vec<u8> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("connecting to {addr}: {e}"));
    stream
        .write_all(request)
        .unwrap_or_else(|e| panic!("writing to {addr}: {e}"));
    let deadline = Instant::now() + wait;
    let mut received = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return received;
        }
        stream
            .set_read_timeout(Some(left))
            .expect("a non-zero timeout");
        match stream.read(&mut buf) {
            Ok(0) => return received,
            Ok(n) => received.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return received
            }
            // A reset after the response is a close too.
            Err(_) => return received,
        }
    }
}

/// The status code of the first HTTP/1.x response in `bytes`, if there is one.
pub fn status_code(bytes: &[u8]) -> Option<u16> {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(64)]);
    let mut parts = text.split(' ');
    parts.next().filter(|v| v.starts_with("HTTP/1."))?;
    parts.next()?.parse().ok()
}
