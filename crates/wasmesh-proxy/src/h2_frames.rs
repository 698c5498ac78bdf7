//! Just enough of HTTP/2's framing to time a request head on an h2 connection. hyper only
//! shows a request once its whole header block has arrived, so a client that drips a HEADERS
//! frame, or its CONTINUATIONs, a byte at a time is invisible to the handler; reading the
//! 9-byte frame headers as they pass (payloads are skipped, never parsed) tells when a header
//! block opened and when it closed. An HTTP/1 connection is told apart by its first bytes,
//! which are not the h2 preface.

use tokio::time::Instant;

/// What a client must send first on an h2 connection with prior knowledge (RFC 9113 §3.4).
const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const HEADERS: u8 = 0x1;
const SETTINGS: u8 = 0x4;
const PING: u8 = 0x6;
const CONTINUATION: u8 = 0x9;
const END_HEADERS: u8 = 0x4;
const ACK: u8 = 0x1;

/// What the connection speaks, as far as its bytes tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// Too few bytes yet: they match the preface so far (or none arrived).
    Unknown,
    /// Not the h2 preface: HTTP/1.x.
    Http1,
    /// h2 with prior knowledge.
    H2,
}

#[derive(Debug)]
enum Phase {
    Preface { matched: usize },
    Http1,
    FrameHeader { header: [u8; 9], have: usize },
    Payload { left: u32, kind: u8, flags: u8 },
}

/// Follows a connection's incoming bytes frame by frame.
#[derive(Debug)]
pub struct FrameClock {
    phase: Phase,
    /// When the first byte of the frame (or preface) still arriving came.
    frame_started: Option<Instant>,
    /// When the header block still open (HEADERS without END_HEADERS yet) started.
    block_started: Option<Instant>,
    /// SETTINGS and PING frames the client sent (not their ACKs): each makes the server write
    /// an answer, so a flood of them is work the client gets for free.
    control_frames: u64,
}

impl Default for FrameClock {
    fn default() -> Self {
        Self {
            phase: Phase::Preface { matched: 0 },
            frame_started: None,
            block_started: None,
            control_frames: 0,
        }
    }
}

impl FrameClock {
    /// What the bytes so far say the connection speaks.
    pub fn protocol(&self) -> Protocol {
        match self.phase {
            Phase::Preface { .. } => Protocol::Unknown,
            Phase::Http1 => Protocol::Http1,
            Phase::FrameHeader { .. } | Phase::Payload { .. } => Protocol::H2,
        }
    }

    /// Since when a request's header block has been arriving without being complete.
    pub fn header_block_since(&self) -> Option<Instant> {
        self.block_started
    }

    /// Since when the frame (or the preface) now arriving has been incomplete.
    pub fn partial_frame_since(&self) -> Option<Instant> {
        self.frame_started
    }

    /// SETTINGS and PING frames (not ACKs) whose header has arrived so far.
    pub fn control_frames(&self) -> u64 {
        self.control_frames
    }

    /// Follows `bytes`, which arrived at `now`.
    pub fn feed(&mut self, mut bytes: &[u8], now: Instant) {
        while !bytes.is_empty() {
            bytes = match &mut self.phase {
                Phase::Http1 => return,
                Phase::Preface { matched } => {
                    self.frame_started.get_or_insert(now);
                    let n = bytes.len().min(PREFACE.len() - *matched);
                    if bytes[..n] != PREFACE[*matched..*matched + n] {
                        self.phase = Phase::Http1;
                        self.frame_started = None;
                        return;
                    }
                    *matched += n;
                    if *matched == PREFACE.len() {
                        self.frame_started = None;
                        self.phase = Phase::FrameHeader {
                            header: [0; 9],
                            have: 0,
                        };
                    }
                    &bytes[n..]
                }
                Phase::FrameHeader { header, have } => {
                    self.frame_started.get_or_insert(now);
                    let n = bytes.len().min(9 - *have);
                    header[*have..*have + n].copy_from_slice(&bytes[..n]);
                    *have += n;
                    if *have == 9 {
                        let left = u32::from_be_bytes([0, header[0], header[1], header[2]]);
                        let (kind, flags) = (header[3], header[4]);
                        if kind == HEADERS {
                            self.block_started = self.block_started.or(self.frame_started);
                        }
                        if matches!(kind, SETTINGS | PING) && flags & ACK == 0 {
                            self.control_frames += 1;
                        }
                        self.phase = Phase::Payload { left, kind, flags };
                        if left == 0 {
                            self.frame_done();
                        }
                    }
                    &bytes[n..]
                }
                Phase::Payload { left, .. } => {
                    let n = bytes.len().min(*left as usize);
                    *left -= n as u32;
                    if *left == 0 {
                        self.frame_done();
                    }
                    &bytes[n..]
                }
            };
        }
    }

    fn frame_done(&mut self) {
        if let Phase::Payload { kind, flags, .. } = self.phase {
            if matches!(kind, HEADERS | CONTINUATION) && flags & END_HEADERS != 0 {
                self.block_started = None;
            }
        }
        self.frame_started = None;
        self.phase = Phase::FrameHeader {
            header: [0; 9],
            have: 0,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn frame(kind: u8, flags: u8, payload: &[u8]) -> Vec<u8> {
        let len = (payload.len() as u32).to_be_bytes();
        let mut out = vec![len[1], len[2], len[3], kind, flags, 0, 0, 0, 1];
        out.extend_from_slice(payload);
        out
    }

    #[test]
    fn http1_is_told_apart_at_its_first_byte() {
        let mut clock = FrameClock::default();
        let now = Instant::now();
        clock.feed(b"PR", now);
        assert_eq!(clock.protocol(), Protocol::Unknown);
        assert_eq!(clock.partial_frame_since(), Some(now));
        let mut clock = FrameClock::default();
        clock.feed(b"GET / HTTP/1.1\r\n", now);
        assert_eq!(clock.protocol(), Protocol::Http1);
        assert_eq!(clock.partial_frame_since(), None);
    }

    #[test]
    fn a_header_block_is_open_from_its_first_byte_to_end_headers() {
        let mut clock = FrameClock::default();
        let t0 = Instant::now();
        let settings = frame(0x4, 0, &[0; 6]);
        clock.feed(PREFACE, t0);
        clock.feed(&settings, t0);
        assert_eq!(clock.protocol(), Protocol::H2);
        assert_eq!(clock.header_block_since(), None);
        assert_eq!(clock.partial_frame_since(), None);

        let headers = frame(HEADERS, 0, &[0x82; 5]);
        let t1 = t0 + Duration::from_secs(1);
        clock.feed(&headers[..3], t1);
        assert_eq!(clock.partial_frame_since(), Some(t1));
        assert_eq!(
            clock.header_block_since(),
            None,
            "not known to be HEADERS yet"
        );
        let t2 = t1 + Duration::from_secs(1);
        clock.feed(&headers[3..], t2);
        assert_eq!(clock.header_block_since(), Some(t1));
        assert_eq!(clock.partial_frame_since(), None);

        // A PING in the middle of a block (not allowed by h2, but it must not close it).
        clock.feed(&frame(PING, 0, &[0; 8]), t2);
        assert_eq!(clock.header_block_since(), Some(t1));
        clock.feed(&frame(PING, ACK, &[0; 8]), t2);
        assert_eq!(
            clock.control_frames(),
            2,
            "the SETTINGS and the PING, not the ACK"
        );
        let continuation = frame(CONTINUATION, END_HEADERS, &[0x84]);
        clock.feed(&continuation, t2);
        assert_eq!(clock.header_block_since(), None);
        assert_eq!(clock.partial_frame_since(), None);
    }

    #[test]
    fn frames_split_anywhere_are_followed() {
        let mut bytes = PREFACE.to_vec();
        bytes.extend(frame(0x4, 0, &[]));
        bytes.extend(frame(HEADERS, END_HEADERS | 0x1, &[0x82, 0x84, 0x86]));
        bytes.extend(frame(0x0, 0x1, &[7; 300]));
        for split in 1..bytes.len() {
            let mut clock = FrameClock::default();
            let now = Instant::now();
            clock.feed(&bytes[..split], now);
            clock.feed(&bytes[split..], now);
            assert_eq!(clock.protocol(), Protocol::H2, "split at {split}");
            assert_eq!(clock.header_block_since(), None, "split at {split}");
            assert_eq!(clock.partial_frame_since(), None, "split at {split}");
        }
    }
}
