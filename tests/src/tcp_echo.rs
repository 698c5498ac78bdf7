//! A TCP echo server for the TCP proxy tests: sends back every byte it receives, ends its side
//! once the client ended its own, and records what each connection sent it.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A running echo server; stops accepting when dropped.
pub struct TcpEcho {
    /// Where it listens.
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Vec<u8>>>>,
    stop: Arc<AtomicBool>,
}

impl TcpEcho {
    /// Starts the server on a free port of 127.0.0.1.
    pub fn start() -> TcpEcho {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding the echo server");
        let addr = listener.local_addr().expect("the echo server's address");
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let stop = Arc::new(AtomicBool::new(false));
        let received = Arc::new(Mutex::new(Vec::new()));
        let (stopped, record) = (stop.clone(), received.clone());
        std::thread::spawn(move || {
            while !stopped.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let record = record.clone();
                        std::thread::spawn(move || echo(stream, &record));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        TcpEcho {
            addr,
            received,
            stop,
        }
    }

    /// What each finished connection sent, in the order they finished.
    pub fn received(&self) -> Vec<Vec<u8>> {
        self.received.lock().expect("not poisoned").clone()
    }
}

impl Drop for TcpEcho {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Echoes one connection until its client ends its side (or 10 s pass), then records it.
fn echo(mut stream: TcpStream, record: &Mutex<Vec<Vec<u8>>>) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut seen = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 || stream.write_all(&buf[..n]).is_err() {
            break;
        }
        seen.extend_from_slice(&buf[..n]);
    }
    let _ = stream.shutdown(Shutdown::Both);
    record.lock().expect("not poisoned").push(seen);
}
