//! A TCP relay that delays what clients send: an endpoint that answers late, or whose server sees
//! each request late, with a real server behind it.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A TCP relay that holds every chunk the client sends for `delay` before passing it on: an
/// endpoint that answers every request `delay` late, in front of a real backend (whose echo
/// still names it). Stops accepting when dropped.
pub struct SlowRelay {
    /// Where clients connect.
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl SlowRelay {
    /// Starts relaying each connection to `upstream`.
    pub fn start(upstream: SocketAddr, delay: Duration) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding the relay");
        let addr = listener.local_addr().expect("the relay's address");
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        std::thread::spawn(move || {
            while !stopped.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((down, _)) => {
                        std::thread::spawn(move || relay(down, upstream, delay));
                    }
                    // Not a readiness wait: the accept loop's pace while idle.
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Self { addr, stop }
    }
}

impl Drop for SlowRelay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn relay(down: TcpStream, upstream: SocketAddr, delay: Duration) {
    let _ = down.set_nonblocking(false);
    let Ok(up) = TcpStream::connect(upstream) else {
        return;
    };
    let (Ok(mut down_r), Ok(mut up_w)) = (down.try_clone(), up.try_clone()) else {
        return;
    };
    std::thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        while let Ok(n) = down_r.read(&mut buf) {
            if n == 0 {
                break;
            }
            std::thread::sleep(delay);
            if up_w.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = up_w.shutdown(Shutdown::Write);
    });
    let (mut up_r, mut down_w) = (up, down);
    let _ = std::io::copy(&mut up_r, &mut down_w);
    let _ = down_w.shutdown(Shutdown::Write);
}
