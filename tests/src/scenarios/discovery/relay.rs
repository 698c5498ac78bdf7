//! A TCP relay in front of a registry that counts what crosses it: the bytes the registry sent
//! back and the requests whose line starts with a given prefix. It shows what polling costs
//! on the wire, whichever host's `http_call` pool makes the connections.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The running relay (its threads end with the test process).
pub struct Relay {
    /// Where the proxy should connect.
    pub addr: SocketAddr,
    answered: Arc<AtomicU64>,
    requests: Arc<AtomicU64>,
}

impl Relay {
    /// Relays `127.0.0.1:<ephemeral>` to `upstream`, counting requests starting with `request`
    /// (e.g. `POST /v3/kv/range `).
    pub fn start(upstream: SocketAddr, request: &'static str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding the relay");
        let addr = listener.local_addr().expect("the relay's address");
        let answered = Arc::new(AtomicU64::new(0));
        let requests = Arc::new(AtomicU64::new(0));
        let (a, r) = (answered.clone(), requests.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(upstream) else {
                    continue;
                };
                let (a, r) = (a.clone(), r.clone());
                let (c2, s2) = match (client.try_clone(), server.try_clone()) {
                    (Ok(c), Ok(s)) => (c, s),
                    _ => continue,
                };
                std::thread::spawn(move || copy(client, server, &r, Some(request)));
                std::thread::spawn(move || copy(s2, c2, &a, None));
            }
        });
        Self {
            addr,
            answered,
            requests,
        }
    }

    /// Bytes the registry sent back so far, and requests seen so far.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.answered.load(Ordering::Relaxed),
            self.requests.load(Ordering::Relaxed),
        )
    }
}

/// Copies `from` to `to` until either closes; counts bytes, or (with `request`) occurrences of
/// `request` (a few bytes of each read are kept so one split across two reads still counts).
fn copy(mut from: TcpStream, mut to: TcpStream, count: &AtomicU64, request: Option<&str>) {
    let mut buffer = [0u8; 16 * 1024];
    let mut carry: Vec<u8> = Vec::new();
    loop {
        let n = match from.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if to.write_all(&buffer[..n]).is_err() {
            break;
        }
        match request {
            None => {
                count.fetch_add(n as u64, Ordering::Relaxed);
            }
            Some(request) => {
                carry.extend_from_slice(&buffer[..n]);
                let needle = request.as_bytes();
                let found = carry.windows(needle.len()).filter(|w| *w == needle).count();
                count.fetch_add(found as u64, Ordering::Relaxed);
                let keep = needle.len().saturating_sub(1).min(carry.len());
                carry.drain(..carry.len() - keep);
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}
