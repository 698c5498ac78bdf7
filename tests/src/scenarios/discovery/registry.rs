//! A stand-in registry for what cannot be installed here (Consul, a Kubernetes API server, a
//! web server with a JSON document): an HTTP/1.1 server on `127.0.0.1:0` answering every
//! request with what the test set last (status, headers, body), or dropping the connection
//! unanswered to play an outage. It records the requests' heads so a test can check the
//! filter's path and credentials.
//!
//! Like Consul, it numbers its states: every [`Registry::set`] moves the index, sent as
//! `X-Consul-Index` on every answer, and a request carrying `index=<the current index>` and
//! `wait=<duration>` is a blocking query, held until the index moves or the wait ends (Consul's
//! documented behaviour, without its jitter). Other registries' clients never send `index=`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// What the registry does with the next requests.
#[derive(Debug, Clone)]
pub enum Mode {
    /// Answer with this status, extra headers and body.
    Answer(u16, Vec<(String, String)>, String),
    /// Close the connection without an answer.
    Drop,
}

/// What is served and its index, guarded together so a held query wakes on a change.
struct State {
    mode: Mode,
    index: u64,
}

type Shared = Arc<(Mutex<State>, Condvar)>;

/// A running stand-in registry (its accept thread ends with the test process).
pub struct Registry {
    /// Where it listens.
    pub addr: SocketAddr,
    state: Shared,
    heads: Arc<Mutex<Vec<String>>>,
}

impl Registry {
    /// Starts answering `200` with `body` (JSON).
    pub fn start(body: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding the registry");
        let addr = listener.local_addr().expect("the registry's address");
        let state: Shared = Arc::new((
            Mutex::new(State {
                mode: Mode::Answer(200, Vec::new(), body),
                index: 1,
            }),
            Condvar::new(),
        ));
        let heads = Arc::new(Mutex::new(Vec::new()));
        let (m, h) = (state.clone(), heads.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (m, h) = (m.clone(), h.clone());
                std::thread::spawn(move || serve(stream, &m, &h));
            }
        });
        Self { addr, state, heads }
    }

    /// Changes what the next requests get (and answers the held blocking queries).
    pub fn set(&self, mode: Mode) {
        let (lock, changed) = &*self.state;
        let mut state = lock.lock().unwrap_or_else(|e| e.into_inner());
        state.mode = mode;
        state.index += 1;
        changed.notify_all();
    }

    /// Answers `200` with `body` from now on.
    pub fn serve(&self, body: String) {
        self.set(Mode::Answer(200, Vec::new(), body));
    }

    /// The request heads seen so far (request line and headers, lowercase names as sent).
    pub fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// One request per connection (`connection: close`), which both hosts' http_call pools accept.
fn serve(stream: TcpStream, state: &Shared, heads: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(stream);
    let mut head = String::new();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        if line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        head.push_str(&line);
    }
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let block = blocking(head.lines().next().unwrap_or(""));
    heads.lock().unwrap_or_else(|e| e.into_inner()).push(head);
    let (mode, index) = hold(state, block);
    let Mode::Answer(status, headers, body) = mode else {
        return; // dropped unanswered
    };
    let mut out = format!("HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\nx-consul-index: {index}\r\n", body.len());
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(&body);
    let mut stream = reader.into_inner();
    let _ = stream.write_all(out.as_bytes());
}

/// A blocking query's `index` and `wait` from the request line (`GET /…?passing&index=3&wait=10000ms HTTP/1.1`).
fn blocking(request_line: &str) -> Option<(u64, Duration)> {
    let target = request_line.split_whitespace().nth(1)?;
    let query = target.split_once('?')?.1;
    let param = |name: &str| {
        query
            .split('&')
            .find_map(|p| p.strip_prefix(name)?.strip_prefix('='))
    };
    let index = param("index")?.parse().ok()?;
    let wait = param("wait")?;
    let wait = match wait.strip_suffix("ms") {
        Some(ms) => Duration::from_millis(ms.parse().ok()?),
        None => Duration::from_secs(wait.strip_suffix('s')?.parse().ok()?),
    };
    Some((index, wait))
}

/// What to answer and the index to send, once a blocking query's index has moved or its wait
/// ended (at once for any other request).
fn hold(state: &Shared, block: Option<(u64, Duration)>) -> (Mode, u64) {
    let (lock, changed) = &**state;
    let mut guard = lock.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((index, wait)) = block {
        let deadline = Instant::now() + wait;
        while guard.index == index {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            guard = changed
                .wait_timeout(guard, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
    (guard.mode.clone(), guard.index)
}
