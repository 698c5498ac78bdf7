//! A raw h2 (prior knowledge) client, for what no well-behaved client sends: header blocks
//! dripped a byte at a time, floods of resets, SETTINGS, PINGs or CONTINUATION frames. It
//! writes frames as told and reads frames back; header blocks are HPACK-encoded with the
//! static table and literals only, and answers are recognised by their first HPACK byte.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// The client connection preface.
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Frame types.
pub mod kind {
    /// DATA.
    pub const DATA: u8 = 0x0;
    /// HEADERS.
    pub const HEADERS: u8 = 0x1;
    /// RST_STREAM.
    pub const RST_STREAM: u8 = 0x3;
    /// SETTINGS.
    pub const SETTINGS: u8 = 0x4;
    /// PING.
    pub const PING: u8 = 0x6;
    /// GOAWAY.
    pub const GOAWAY: u8 = 0x7;
    /// CONTINUATION.
    pub const CONTINUATION: u8 = 0x9;
}

/// Frame flags.
pub mod flag {
    /// END_STREAM (HEADERS, DATA).
    pub const END_STREAM: u8 = 0x1;
    /// ACK (SETTINGS, PING).
    pub const ACK: u8 = 0x1;
    /// END_HEADERS (HEADERS, CONTINUATION).
    pub const END_HEADERS: u8 = 0x4;
}

/// One frame read back.
#[derive(Debug, Clone)]
pub struct Frame {
    /// Its type.
    pub kind: u8,
    /// Its flags.
    pub flags: u8,
    /// Its stream.
    pub stream: u32,
    /// Its payload.
    pub payload: Vec<u8>,
}

/// How a connection ended, seen from the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// The server sent GOAWAY with this error code (then may have closed).
    GoAway(u32),
    /// The server closed (or reset) the connection without a GOAWAY.
    Closed,
    /// Still open when the wait was over.
    Open,
}

/// The bytes of one frame.
pub fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = (payload.len() as u32).to_be_bytes();
    let id = stream.to_be_bytes();
    let mut out = vec![
        len[1], len[2], len[3], kind, flags, id[0], id[1], id[2], id[3],
    ];
    out.extend_from_slice(payload);
    out
}

/// The HPACK block of `GET path` (static-table method and scheme, literal path and authority).
pub fn get_block(path: &str) -> Vec<u8> {
    let mut block = vec![0x82, 0x86];
    for (index, value) in [(0x04u8, path), (0x01, "h2.test")] {
        assert!(value.len() < 127, "a short literal");
        block.push(index);
        block.push(value.len() as u8);
        block.extend_from_slice(value.as_bytes());
    }
    block
}

/// An h2 connection speaking raw frames.
pub struct H2Connection {
    stream: TcpStream,
    buffered: Vec<u8>,
}

impl H2Connection {
    /// Connects, sends the preface and an empty SETTINGS frame.
    pub fn connect(addr: SocketAddr) -> Self {
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
            .unwrap_or_else(|e| panic!("connecting to {addr}: {e}"));
        let _ = stream.set_nodelay(true);
        let mut connection = Self {
            stream,
            buffered: Vec::new(),
        };
        let mut hello = PREFACE.to_vec();
        hello.extend(frame(kind::SETTINGS, 0, 0, &[]));
        connection.send(&hello).expect("sending the preface");
        connection
    }

    /// Writes bytes as they are.
    pub fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// The next frame, waiting at most `wait`; `Err` says whether the connection closed or is
    /// still open with nothing (whole) in time.
    pub fn read_frame(&mut self, wait: Duration) -> Result<Frame, Ended> {
        let deadline = Instant::now() + wait;
        loop {
            if self.buffered.len() >= 9 {
                let b = &self.buffered;
                let len = u32::from_be_bytes([0, b[0], b[1], b[2]]) as usize;
                if b.len() >= 9 + len {
                    let stream = u32::from_be_bytes([b[5], b[6], b[7], b[8]]) & 0x7fff_ffff;
                    let frame = Frame {
                        kind: b[3],
                        flags: b[4],
                        stream,
                        payload: b[9..9 + len].to_vec(),
                    };
                    self.buffered.drain(..9 + len);
                    return Ok(frame);
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Ended::Open);
            }
            self.stream.set_read_timeout(Some(left)).expect("a timeout");
            let mut buf = [0u8; 16 * 1024];
            match self.stream.read(&mut buf) {
                Ok(0) => return Err(Ended::Closed),
                Ok(n) => self.buffered.extend_from_slice(&buf[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return Err(Ended::Open)
                }
                Err(_) => return Err(Ended::Closed),
            }
        }
    }

    /// Reads (and acknowledges SETTINGS) until the connection ends or `wait` passes; a
    /// GOAWAY is reported with its error code.
    pub fn ended_within(&mut self, wait: Duration) -> Ended {
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.read_frame(left) {
                Ok(f) if f.kind == kind::GOAWAY && f.payload.len() >= 8 => {
                    let p = &f.payload;
                    return Ended::GoAway(u32::from_be_bytes([p[4], p[5], p[6], p[7]]));
                }
                Ok(f) => self.acknowledge(&f),
                Err(ended) => return ended,
            }
        }
    }

    /// `GET path` on `stream`: the status of its answer when it is a plain 200 (HPACK's
    /// indexed `:status: 200`), else the first byte of the answer's header block.
    pub fn get(&mut self, stream: u32, path: &str) -> Result<u8, Ended> {
        let flags = flag::END_STREAM | flag::END_HEADERS;
        let request = frame(kind::HEADERS, flags, stream, &get_block(path));
        self.send(&request).map_err(|_| Ended::Closed)?;
        loop {
            let f = self.read_frame(Duration::from_secs(5))?;
            if f.kind == kind::HEADERS && f.stream == stream {
                return Ok(f.payload.first().copied().unwrap_or(0));
            }
            if f.kind == kind::GOAWAY {
                return Err(Ended::GoAway(0));
            }
            self.acknowledge(&f);
        }
    }

    /// Acknowledges a SETTINGS frame, as a client must.
    fn acknowledge(&mut self, f: &Frame) {
        if f.kind == kind::SETTINGS && f.flags & flag::ACK == 0 {
            let _ = self.send(&frame(kind::SETTINGS, flag::ACK, 0, &[]));
        }
    }
}

/// HPACK's first byte of `:status: 200` (static table index 8).
pub const STATUS_200: u8 = 0x88;
