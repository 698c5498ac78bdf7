//! A stand-in registry for what cannot be installed here (Consul, a Kubernetes API server, a
//! web server with a JSON document): an HTTP/1.1 server on `127.0.0.1:0` answering every
//! request with what the test set last (status, headers, body), or dropping the connection
//! unanswered to play an outage. It records the requests' heads so a test can check the
//! filter's path and credentials.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// What the registry does with the next requests.
#[derive(Debug, Clone)]
pub enum Mode {
    /// Answer with this status, extra headers and body.
    Answer(u16, Vec<(String, String)>, String),
    /// Close the connection without an answer.
    Drop,
}

/// A running stand-in registry (its accept thread ends with the test process).
pub struct Registry {
    /// Where it listens.
    pub addr: SocketAddr,
    mode: Arc<Mutex<Mode>>,
    heads: Arc<Mutex<Vec<String>>>,
}

impl Registry {
    /// Starts answering `200` with `body` (JSON).
    pub fn start(body: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding the registry");
        let addr = listener.local_addr().expect("the registry's address");
        let mode = Arc::new(Mutex::new(Mode::Answer(200, Vec::new(), body)));
        let heads = Arc::new(Mutex::new(Vec::new()));
        let (m, h) = (mode.clone(), heads.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (m, h) = (m.clone(), h.clone());
                std::thread::spawn(move || serve(stream, &m, &h));
            }
        });
        Self { addr, mode, heads }
    }

    /// Changes what the next requests get.
    pub fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap_or_else(|e| e.into_inner()) = mode;
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
fn serve(stream: TcpStream, mode: &Mutex<Mode>, heads: &Mutex<Vec<String>>) {
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
    heads.lock().unwrap_or_else(|e| e.into_inner()).push(head);
    let mode = mode.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let Mode::Answer(status, headers, body) = mode else {
        return; // dropped unanswered
    };
    let mut out = format!("HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n", body.len());
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(&body);
    let mut stream = reader.into_inner();
    let _ = stream.write_all(out.as_bytes());
}
