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

/// A response read off an [`Http1Connection`].
#[derive(Debug, Clone)]
pub struct RawResponse {
    /// Status code.
    pub status: u16,
    /// Header fields in the order received, names lowercased.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
}

impl RawResponse {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 connection carrying requests one after another, for what a pooling client
/// hides: that every request really used the same connection, and headers such as `connection`
/// or `te` sent exactly as written.
pub struct Http1Connection {
    reader: std::io::BufReader<TcpStream>,
    writer: TcpStream,
}

impl Http1Connection {
    /// Connects to `addr`; every read afterwards may wait at most `read_timeout`.
    pub fn connect(addr: SocketAddr, read_timeout: Duration) -> Self {
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
            .unwrap_or_else(|e| panic!("connecting to {addr}: {e}"));
        stream
            .set_read_timeout(Some(read_timeout))
            .expect("a non-zero timeout");
        let _ = stream.set_nodelay(true);
        let writer = stream.try_clone().expect("cloning a TCP stream");
        Self {
            reader: std::io::BufReader::new(stream),
            writer,
        }
    }

    /// Writes `request` as is and reads one whole response (content-length, chunked, or until
    /// close); `Err` if the connection fails or closes before a complete response.
    pub fn exchange(&mut self, request: &[u8]) -> Result<RawResponse, String> {
        self.writer
            .write_all(request)
            .map_err(|e| format!("writing the request: {e}"))?;
        self.read_response()
    }

    fn read_line(&mut self) -> Result<String, String> {
        use std::io::BufRead;
        let mut line = String::new();
        let n = self
            .reader
            .read_line(&mut line)
            .map_err(|e| format!("reading: {e}"))?;
        if n == 0 {
            return Err("connection closed".into());
        }
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    }

    fn read_response(&mut self) -> Result<RawResponse, String> {
        let status_line = self.read_line()?;
        let status = status_code(status_line.as_bytes())
            .ok_or_else(|| format!("not an HTTP/1.x status line: {status_line:?}"))?;
        let mut headers = Vec::new();
        loop {
            let line = self.read_line()?;
            if line.is_empty() {
                break;
            }
            let (name, value) = line
                .split_once(':')
                .ok_or_else(|| format!("bad header line {line:?}"))?;
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
        let mut response = RawResponse {
            status,
            headers,
            body: Vec::new(),
        };
        let chunked = response
            .header("transfer-encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
        let length = response.header("content-length").map(str::to_string);
        if chunked {
            response.body = self.read_chunked()?;
        } else if let Some(length) = length {
            let length: usize = length
                .parse()
                .map_err(|e| format!("content-length {length:?}: {e}"))?;
            response.body = vec![0; length];
            self.reader
                .read_exact(&mut response.body)
                .map_err(|e| format!("reading a {length}-byte body: {e}"))?;
        } else if !(status == 204 || status == 304 || (100..200).contains(&status)) {
            self.reader
                .read_to_end(&mut response.body)
                .map_err(|e| format!("reading a body delimited by close: {e}"))?;
        }
        Ok(response)
    }

    fn read_chunked(&mut self) -> Result<Vec<u8>, String> {
        let mut body = Vec::new();
        loop {
            let line = self.read_line()?;
            let size = line.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size, 16)
                .map_err(|e| format!("chunk size line {line:?}: {e}"))?;
            if size == 0 {
                // Trailers, if any, up to the empty line.
                while !self.read_line()?.is_empty() {}
                return Ok(body);
            }
            let start = body.len();
            body.resize(start + size, 0);
            self.reader
                .read_exact(&mut body[start..])
                .map_err(|e| format!("reading a {size}-byte chunk: {e}"))?;
            let end = self.read_line()?;
            if !end.is_empty() {
                return Err(format!("chunk not followed by CRLF: {end:?}"));
            }
        }
    }
}
