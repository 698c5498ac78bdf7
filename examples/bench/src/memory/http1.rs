//! Just enough HTTP/1.1 for the memory scenarios' clients, over a plain `TcpStream`: they must
//! do what no well-behaved client library lets a caller do (write a body the proxy has already
//! refused, stop reading mid-response), and every read and write has a time limit, so a proxy
//! that stops answering costs a scenario seconds, never the run.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// The longest response head read: far more than either proxy sends.
const MAX_HEAD: usize = 64 * 1024;

/// A client connection with what was read past the last response.
pub struct Connection {
    /// The socket, with read and write time limits set.
    pub stream: TcpStream,
    buffered: Vec<u8>,
}

/// A response's status line and framing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    /// The status code.
    pub status: u16,
    /// `content-length`, if given.
    pub content_length: Option<u64>,
    /// `transfer-encoding: chunked`.
    pub chunked: bool,
    /// `connection: close`: the proxy ends the connection after this response.
    pub close: bool,
}

impl Connection {
    /// Connects within `limit`; every later read or write may wait at most `limit` too.
    pub fn open(addr: SocketAddr, limit: Duration) -> std::io::Result<Self> {
        let stream = TcpStream::connect_timeout(&addr, limit)?;
        stream.set_read_timeout(Some(limit))?;
        stream.set_write_timeout(Some(limit))?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            buffered: Vec::new(),
        })
    }

    /// Writes `bytes` whole.
    pub fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// Reads one response head; the body's first bytes stay buffered.
    pub fn read_head(&mut self) -> Result<Head, String> {
        let end = loop {
            if let Some(at) = find(&self.buffered, b"\r\n\r\n") {
                break at + 4;
            }
            if self.buffered.len() > MAX_HEAD {
                return Err(format!("no end of head in {MAX_HEAD} bytes"));
            }
            if self.fill()? == 0 {
                return Err("closed before a response".into());
            }
        };
        let head = parse_head(&self.buffered[..end])?;
        self.buffered.drain(..end);
        Ok(head)
    }

    /// Reads one whole response (head and body, by length or chunked) on a keep-alive
    /// connection; returns its head. A body delimited by the close is read to the end.
    pub fn read_response(&mut self) -> Result<Head, String> {
        let head = self.read_head()?;
        if head.chunked {
            loop {
                let line = self.read_line()?;
                let size = line.split(';').next().unwrap_or("").trim();
                let size = u64::from_str_radix(size, 16)
                    .map_err(|_| format!("chunk size line {line:?}"))?;
                if size == 0 {
                    while !self.read_line()?.is_empty() {}
                    return Ok(head);
                }
                self.skip(size + 2)?;
            }
        }
        match head.content_length {
            Some(length) => self.skip(length)?,
            None if no_body(head.status) => {}
            None => while self.fill()? > 0 {},
        }
        Ok(head)
    }

    /// Reads until the proxy closes, the reads pause for the time limit, or `limit` bytes
    /// arrived; how many bytes came (the buffered ones included) and whether it closed.
    pub fn drain(&mut self, limit: u64) -> (u64, Drained) {
        let mut total = std::mem::take(&mut self.buffered).len() as u64;
        let mut buf = vec![0u8; 256 * 1024];
        while total < limit {
            match self.stream.read(&mut buf) {
                Ok(0) => return (total, Drained::Closed),
                Ok(n) => total += n as u64,
                Err(e) if is_timeout(&e) => return (total, Drained::Paused),
                Err(_) => return (total, Drained::Reset),
            }
        }
        (total, Drained::Limit)
    }

    fn read_line(&mut self) -> Result<String, String> {
        loop {
            if let Some(at) = find(&self.buffered, b"\r\n") {
                let line = String::from_utf8_lossy(&self.buffered[..at]).into_owned();
                self.buffered.drain(..at + 2);
                return Ok(line);
            }
            if self.fill()? == 0 {
                return Err("closed inside a chunked body".into());
            }
        }
    }

    /// Reads and forgets `n` bytes of body.
    fn skip(&mut self, mut n: u64) -> Result<(), String> {
        loop {
            let here = (self.buffered.len() as u64).min(n);
            self.buffered.drain(..here as usize);
            n -= here;
            if n == 0 {
                return Ok(());
            }
            if self.fill()? == 0 {
                return Err(format!("closed with {n} bytes of body missing"));
            }
        }
    }

    /// One read into the buffer; 0 when the proxy closed.
    fn fill(&mut self) -> Result<usize, String> {
        let mut buf = [0u8; 64 * 1024];
        match self.stream.read(&mut buf) {
            Ok(n) => {
                self.buffered.extend_from_slice(&buf[..n]);
                Ok(n)
            }
            Err(e) if is_timeout(&e) => Err("timed out".into()),
            Err(e) => Err(format!("reading: {e}")),
        }
    }
}

/// How [`Connection::drain`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drained {
    /// The proxy closed the connection (EOF).
    Closed,
    /// The proxy reset it.
    Reset,
    /// Nothing arrived for the read time limit: still open.
    Paused,
    /// As much as asked for arrived.
    Limit,
}

/// Whether a read or write error is its time limit passing.
pub fn is_timeout(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

/// Sends `request` on a fresh connection and reads the whole response; its status.
pub fn exchange(addr: SocketAddr, request: &[u8], limit: Duration) -> Result<u16, String> {
    let mut connection = Connection::open(addr, limit).map_err(|e| format!("connecting: {e}"))?;
    connection
        .send(request)
        .map_err(|e| format!("writing: {e}"))?;
    Ok(connection.read_response()?.status)
}

fn parse_head(head: &[u8]) -> Result<Head, String> {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let status = status_line
        .strip_prefix("HTTP/1.")
        .and_then(|rest| rest.get(2..5))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("not a status line: {status_line:?}"))?;
    let mut parsed = Head {
        status,
        content_length: None,
        chunked: false,
        close: false,
    };
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => parsed.content_length = value.parse().ok(),
            "transfer-encoding" => parsed.chunked = value.eq_ignore_ascii_case("chunked"),
            "connection" => parsed.close = value.eq_ignore_ascii_case("close"),
            _ => {}
        }
    }
    Ok(parsed)
}

fn no_body(status: u16) -> bool {
    status == 204 || status == 304 || (100..200).contains(&status)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_head() {
        let head = parse_head(
            b"HTTP/1.1 413 Payload Too Large\r\ncontent-length: 17\r\nConnection: close\r\n\r\n",
        )
        .unwrap();
        assert_eq!(
            head,
            Head {
                status: 413,
                content_length: Some(17),
                chunked: false,
                close: true
            }
        );
        let head = parse_head(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").unwrap();
        assert!(head.chunked && head.content_length.is_none());
        assert!(parse_head(b"SSH-2.0\r\n\r\n").is_err());
    }

    #[test]
    fn reads_responses_one_after_another() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut socket, _) = listener.accept().unwrap();
            socket
                .write_all(
                    b"HTTP/1.1 429 Too Many Requests\r\ncontent-length: 3\r\n\r\nno\n\
                      HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n\
                      HTTP/1.1 200 OK\r\n\r\nrest",
                )
                .unwrap();
        });
        let mut connection = Connection::open(addr, Duration::from_secs(5)).unwrap();
        assert_eq!(connection.read_response().unwrap().status, 429);
        assert_eq!(connection.read_response().unwrap().status, 200);
        assert_eq!(connection.read_head().unwrap().status, 200);
        server.join().unwrap();
        assert_eq!(connection.drain(100), (4, Drained::Closed));
    }
}
