//! The `memory` mode's upstream: an HTTP/1.1 server that answers every request at once, with
//! `/bytes?n=N` giving N bytes written from one shared block, and anything else a short `ok`.
//!
//! Why not `wasmesh-backend`: it builds each `/bytes` body whole in memory, one request after
//! another on one thread, which takes it seconds for 100 bodies of 16 MiB; the last heads then
//! came after a 3 s route timeout (504s that were the backend's doing, not the proxy's), and
//! the bench itself held 1.6 GiB. Here each connection has a thread that writes as fast as the
//! proxy reads, and blocks (holding nothing) while it does not: only the proxy's buffering is
//! measured. Dropping the server shuts every connection down, so no thread outlives it.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context;

/// The block every body is cut from.
const BLOCK: usize = 256 * 1024;
/// The longest request head read (the key flood's is about 8 KB).
const MAX_HEAD: usize = 64 * 1024;
/// A connection whose peer neither sends nor reads for this long is dropped.
const IDLE_LIMIT: Duration = Duration::from_secs(60);

/// A running server; stopped when dropped.
pub struct BulkBackend {
    /// Where it listens (an ephemeral port of 127.0.0.1).
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<TcpStream>>>,
    acceptor: Option<JoinHandle<()>>,
}

impl BulkBackend {
    /// Listens and serves until dropped.
    pub fn start() -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").context("bulk backend: binding")?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let open: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let acceptor = std::thread::Builder::new()
            .name("bulk-backend".into())
            .spawn({
                let (stop, open) = (stop.clone(), open.clone());
                move || {
                    let block: Arc<[u8]> = (0..BLOCK).map(|i| b'a' + (i % 26) as u8).collect();
                    for stream in listener.incoming() {
                        if stop.load(Ordering::Relaxed) {
                            break;
                        }
                        let Ok(stream) = stream else { continue };
                        if let Ok(clone) = stream.try_clone() {
                            open.lock().unwrap_or_else(|p| p.into_inner()).push(clone);
                        }
                        let block = block.clone();
                        let _ = std::thread::Builder::new()
                            .name("bulk-connection".into())
                            .spawn(move || serve(stream, &block));
                    }
                }
            })?;
        Ok(Self {
            addr,
            stop,
            open,
            acceptor: Some(acceptor),
        })
    }
}

impl Drop for BulkBackend {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wakes the acceptor, which then sees `stop`.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        for stream in self
            .open
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
        {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

/// Answers the requests of one connection, one after another, until it ends.
fn serve(mut stream: TcpStream, block: &[u8]) {
    let _ = stream.set_read_timeout(Some(IDLE_LIMIT));
    let _ = stream.set_write_timeout(Some(IDLE_LIMIT));
    let _ = stream.set_nodelay(true);
    let mut buffered = Vec::new();
    while let Some(n) = next_request(&mut stream, &mut buffered) {
        let answered = match n {
            Some(n) => answer(&mut stream, n, block),
            None => stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nok\n"),
        };
        if answered.is_err() {
            return;
        }
    }
}

/// Writes a head and `n` bytes of `block`, over and over.
fn answer(stream: &mut TcpStream, n: u64, block: &[u8]) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: {n}\r\n\r\n"
    );
    stream.write_all(head.as_bytes())?;
    let mut left = n;
    while left > 0 {
        let len = left.min(block.len() as u64) as usize;
        stream.write_all(&block[..len])?;
        left -= len as u64;
    }
    Ok(())
}

/// Reads one request (its head, and its body by `content-length`); `Some(Some(n))` for
/// `/bytes?n=N`, `Some(None)` for anything else, `None` once the connection is over.
fn next_request(stream: &mut TcpStream, buffered: &mut Vec<u8>) -> Option<Option<u64>> {
    let end = loop {
        if let Some(at) = buffered.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        if buffered.len() > MAX_HEAD {
            return None;
        }
        fill(stream, buffered)?;
    };
    let head = String::from_utf8_lossy(&buffered[..end]).into_owned();
    buffered.drain(..end);
    let mut body = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse::<usize>().ok())
        .unwrap_or(0);
    while body > 0 {
        if buffered.is_empty() {
            fill(stream, buffered)?;
        }
        let here = body.min(buffered.len());
        buffered.drain(..here);
        body -= here;
    }
    Some(bytes_asked(head.lines().next().unwrap_or("")))
}

/// One read onto `buffered`; `None` when the connection ended or failed.
fn fill(stream: &mut TcpStream, buffered: &mut Vec<u8>) -> Option<()> {
    let mut buf = [0u8; 16 * 1024];
    match stream.read(&mut buf) {
        Ok(0) | Err(_) => None,
        Ok(n) => {
            buffered.extend_from_slice(&buf[..n]);
            Some(())
        }
    }
}

/// N of `GET /bytes?n=N HTTP/1.1`.
fn bytes_asked(request_line: &str) -> Option<u64> {
    let target = request_line.split(' ').nth(1)?;
    let query = target.strip_prefix("/bytes?")?;
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("n="))?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::http1::Connection;

    #[test]
    fn reads_the_size_asked() {
        assert_eq!(
            bytes_asked("GET /bytes?n=16777216 HTTP/1.1"),
            Some(16 << 20)
        );
        assert_eq!(bytes_asked("GET /bytes?x=1&n=5 HTTP/1.1"), Some(5));
        assert_eq!(bytes_asked("GET /flood HTTP/1.1"), None);
    }

    #[test]
    fn serves_bytes_and_bodies_on_one_connection() {
        let backend = BulkBackend::start().unwrap();
        let mut c = Connection::open(backend.addr, Duration::from_secs(5)).unwrap();
        c.send(b"POST /up HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n\r\nhello")
            .unwrap();
        assert_eq!(c.read_response().unwrap().status, 200);
        c.send(b"GET /bytes?n=300000 HTTP/1.1\r\nhost: x\r\n\r\n")
            .unwrap();
        let head = c.read_head().unwrap();
        assert_eq!(head.content_length, Some(300_000));
        assert_eq!(c.drain(300_000).0, 300_000);
        drop(backend);
    }
}
