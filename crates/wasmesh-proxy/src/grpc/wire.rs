//! gRPC on the wire, as far as a proxy-wasm host needs it: length-prefixed messages, the
//! `grpc-status` / `grpc-message` trailers, and what a status is when the server gave none.

use bytes::{Buf, Bytes, BytesMut};

use wasmesh_host::headers::HeaderMap;

/// gRPC status codes the host itself answers with.
pub mod code {
    /// `UNKNOWN`: the response ended without a status.
    pub const UNKNOWN: u32 = 2;
    /// `RESOURCE_EXHAUSTED`: a message larger than the host accepts.
    pub const RESOURCE_EXHAUSTED: u32 = 8;
    /// `INTERNAL`: a reset stream, a compressed message nobody asked for.
    pub const INTERNAL: u32 = 13;
    /// `UNAVAILABLE`: no response (what Envoy's router answers a gRPC request it could not
    /// send).
    pub const UNAVAILABLE: u32 = 14;
}

/// One message with its 5-byte prefix (not compressed, 4-byte big-endian length).
pub fn frame(message: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(5 + message.len());
    out.extend_from_slice(&[0]);
    out.extend_from_slice(&(message.len() as u32).to_be_bytes());
    out.extend_from_slice(message);
    out.freeze()
}

/// Why a response's data could not be read as messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// A message larger than the limit.
    TooLarge,
    /// A compressed message (the host asks for none).
    Compressed,
}

impl DecodeError {
    /// The status Envoy's gRPC client closes the stream with.
    pub fn code(self) -> u32 {
        match self {
            DecodeError::TooLarge => code::RESOURCE_EXHAUSTED,
            DecodeError::Compressed => code::INTERNAL,
        }
    }
}

/// Splits a response's data into messages, across DATA frames of any size.
#[derive(Debug)]
pub struct Decoder {
    buffer: BytesMut,
    limit: usize,
}

impl Decoder {
    /// A decoder refusing messages over `limit` bytes.
    pub fn new(limit: usize) -> Decoder {
        Decoder {
            buffer: BytesMut::new(),
            limit,
        }
    }

    /// Adds data and returns every message it completed.
    pub fn push(&mut self, data: &[u8]) -> Result<Vec<Vec<u8>>, DecodeError> {
        self.buffer.extend_from_slice(data);
        let mut messages = Vec::new();
        while self.buffer.len() >= 5 {
            let flags = self.buffer[0];
            let len = u32::from_be_bytes([
                self.buffer[1],
                self.buffer[2],
                self.buffer[3],
                self.buffer[4],
            ]) as usize;
            if len > self.limit {
                return Err(DecodeError::TooLarge);
            }
            if self.buffer.len() < 5 + len {
                break;
            }
            if flags != 0 && len > 0 {
                return Err(DecodeError::Compressed);
            }
            self.buffer.advance(5);
            messages.push(self.buffer.split_to(len).to_vec());
        }
        Ok(messages)
    }
}

/// `grpc-status` of a header or trailer map, if it has a number there.
pub fn status_of(map: &HeaderMap) -> Option<u32> {
    map.get_str("grpc-status")?.trim().parse().ok()
}

/// `grpc-message`, percent-decoded as the gRPC spec encodes it (empty when absent).
pub fn message_of(map: &HeaderMap) -> String {
    let Some(raw) = map.get(b"grpc-message") else {
        return String::new();
    };
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if raw[i] == b'%' && i + 2 < raw.len() {
            if let (Some(h), Some(l)) = (hex(raw[i + 1]), hex(raw[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(raw[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The status of a response whose HTTP status is not 200 and that carries no `grpc-status`:
/// the gRPC project's HTTP-to-gRPC mapping, as Envoy applies it.
pub fn status_of_http(http_status: u16) -> u32 {
    match http_status {
        400 => code::INTERNAL,
        401 => 16,
        403 => 7,
        404 => 12,
        429 | 502 | 503 | 504 => code::UNAVAILABLE,
        _ => code::UNKNOWN,
    }
}

/// The trailers-only response Envoy's router gives a gRPC request it answered itself (the
/// upstream could not be reached, or did not answer in time): HTTP 200, the status mapped from
/// the router's HTTP status, and its words as `grpc-message`.
pub fn local_reply(http_status: u16, words: &str) -> HeaderMap {
    let mut map = HeaderMap::new();
    map.add(b":status", b"200");
    map.add(b"content-type", b"application/grpc");
    map.add(
        b"grpc-status",
        status_of_http(http_status).to_string().as_bytes(),
    );
    map.add(b"grpc-message", words.as_bytes());
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_split_across_frames_and_checked() {
        let mut wire = frame(b"hello").to_vec();
        wire.extend_from_slice(&frame(b""));
        wire.extend_from_slice(&frame(b"world"));
        let mut decoder = Decoder::new(16);
        assert_eq!(decoder.push(&wire[..3]).unwrap(), Vec::<Vec<u8>>::new());
        assert_eq!(
            decoder.push(&wire[3..15]).unwrap(),
            vec![b"hello".to_vec(), Vec::new()]
        );
        assert_eq!(decoder.push(&wire[15..]).unwrap(), vec![b"world".to_vec()]);
        let mut small = Decoder::new(4);
        assert_eq!(small.push(&frame(b"hello")), Err(DecodeError::TooLarge));
        let mut compressed = frame(b"x").to_vec();
        compressed[0] = 1;
        assert_eq!(
            Decoder::new(16).push(&compressed),
            Err(DecodeError::Compressed)
        );
    }

    #[test]
    fn status_and_message_are_read_as_grpc_writes_them() {
        let mut map = HeaderMap::new();
        map.add(b"grpc-status", b"7");
        map.add(b"grpc-message", b"not %E2%9C%93 here 100%");
        assert_eq!(status_of(&map), Some(7));
        assert_eq!(message_of(&map), "not \u{2713} here 100%");
        assert_eq!(status_of(&HeaderMap::new()), None);
        assert_eq!(status_of_http(503), code::UNAVAILABLE);
        assert_eq!(status_of_http(418), code::UNKNOWN);
    }
}
