//! A plain HTTP/1.1 server for the tests that fetch modules by URL: each path answers what the
//! test gave it (bytes, or what a function makes of the request), or misbehaves as a server on
//! a bad day does (never answers, or sends a body without end). One thread per connection; it
//! stops accepting when dropped.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A request as the server read it.
pub struct Request {
    /// The request target: path and query.
    pub target: String,
    /// The headers, names lowercase.
    pub headers: Vec<(String, String)>,
}

impl Request {
    /// The first value of header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A function answering a request: the status, its headers and the body.
pub type Handler = Arc<dyn Fn(&Request) -> (u16, Vec<(String, String)>, Vec<u8>) + Send + Sync>;

/// What a path (the target without its query) answers.
#[derive(Clone)]
pub enum Answer {
    /// `200` with these bytes.
    Bytes(Vec<u8>),
    /// Reads the request, then never answers (until the test ends).
    Hang,
    /// `200` announcing `length` bytes of zeros and sending them until the client leaves.
    Endless(u64),
    /// What the function answers.
    Computed(Handler),
    /// `200` with these bytes on a kept-alive connection (no `connection: close`), which the
    /// server closes this long after, as servers close idle connections.
    BytesThenClose(Vec<u8>, Duration),
}

/// The running server.
pub struct StaticServer {
    /// Where it listens.
    pub addr: SocketAddr,
    requests: Arc<AtomicU64>,
    connections: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl StaticServer {
    /// Serves `paths` (anything else: 404) on an ephemeral loopback port.
    pub fn start(paths: Vec<(&str, Answer)>) -> StaticServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let addr = listener.local_addr().expect("its address");
        listener.set_nonblocking(true).expect("non-blocking accept");
        let paths: Arc<HashMap<String, Answer>> =
            Arc::new(paths.into_iter().map(|(p, a)| (p.to_string(), a)).collect());
        let (requests, stop) = (
            Arc::new(AtomicU64::new(0)),
            Arc::new(AtomicBool::new(false)),
        );
        let connections = Arc::new(AtomicU64::new(0));
        let (counted, stopped, accepted) = (requests.clone(), stop.clone(), connections.clone());
        std::thread::spawn(move || {
            while !stopped.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        accepted.fetch_add(1, Ordering::SeqCst);
                        let (paths, counted, stopped) =
                            (paths.clone(), counted.clone(), stopped.clone());
                        std::thread::spawn(move || serve(stream, &paths, &counted, &stopped));
                    }
                    // Not a readiness wait: the accept loop's pace while idle.
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        StaticServer {
            addr,
            requests,
            connections,
            stop,
        }
    }

    /// `http://<addr><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Requests answered or started so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn serve(
    stream: TcpStream,
    paths: &HashMap<String, Answer>,
    requests: &AtomicU64,
    stop: &AtomicBool,
) {
    let _ = stream.set_nonblocking(false);
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut writer = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
            }
        }
        requests.fetch_add(1, Ordering::SeqCst);
        let request = Request {
            target: request_line
                .split_whitespace()
                .nth(1)
                .unwrap_or("/")
                .to_string(),
            headers,
        };
        let path = request.target.split('?').next().unwrap_or("/");
        match paths.get(path) {
            Some(Answer::Bytes(bytes)) => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/wasm\r\ncontent-length: {}\r\n\r\n",
                    bytes.len()
                );
                if writer
                    .write_all(head.as_bytes())
                    .and_then(|()| writer.write_all(bytes))
                    .is_err()
                {
                    return;
                }
            }
            Some(Answer::BytesThenClose(bytes, after)) => {
                let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", bytes.len());
                let _ = writer
                    .write_all(head.as_bytes())
                    .and_then(|()| writer.write_all(bytes));
                std::thread::sleep(*after);
                return;
            }
            Some(Answer::Hang) => {
                while !stop.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(50));
                }
                return;
            }
            Some(Answer::Endless(length)) => {
                let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {length}\r\n\r\n");
                if writer.write_all(head.as_bytes()).is_err() {
                    return;
                }
                let zeros = vec![0u8; 64 * 1024];
                while !stop.load(Ordering::SeqCst) && writer.write_all(&zeros).is_ok() {}
                return;
            }
            Some(Answer::Computed(handler)) => {
                let (status, headers, body) = handler(&request);
                let mut head = format!("HTTP/1.1 {status} -\r\ncontent-length: {}\r\n", body.len());
                for (name, value) in headers {
                    head.push_str(&format!("{name}: {value}\r\n"));
                }
                head.push_str("\r\n");
                if writer
                    .write_all(head.as_bytes())
                    .and_then(|()| writer.write_all(&body))
                    .is_err()
                {
                    return;
                }
            }
            None => {
                let _ = writer.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n");
            }
        }
    }
}
