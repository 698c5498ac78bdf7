//! Scenario `h2-window`: one h2c connection (prior knowledge) whose SETTINGS give every stream
//! an initial window of 0, then `--clients` (100) streams each asking for `/bytes?n=` of
//! `--response-bytes` (16 MiB), and never a WINDOW_UPDATE, for `--stall` (5 s). The proxy may
//! send no DATA at all; what it takes from the backend meanwhile, it holds. (The connection
//! window cannot be set below 65 535 bytes, but with every stream window at 0 it never matters.)
//!
//! The client keeps reading frames (acknowledging SETTINGS, as it must), so it sees each
//! stream's response head, any DATA, each RST_STREAM and GOAWAY, and the close, with their
//! times. Frames are written with the test rig's raw h2 helpers (`wasmesh_tests::h2_raw`).

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use anyhow::Context;
use wasmesh_tests::h2_raw::{flag, frame, get_block, kind, PREFACE, STATUS_200};

use crate::memory::clock::{secs, Clock};
use crate::memory::http1::is_timeout;

/// Connect and write time limit.
const IO_LIMIT: Duration = Duration::from_secs(3);
/// How long one read waits, so the stall's end is noticed soon.
const READ_SLICE: Duration = Duration::from_millis(100);
/// SETTINGS parameters (RFC 9113 §6.5.2).
const SETTINGS_ENABLE_PUSH: u16 = 0x2;
const SETTINGS_INITIAL_WINDOW_SIZE: u16 = 0x4;
/// Frame types `h2_raw::kind` does not name.
const WINDOW_UPDATE: u8 = 0x8;

/// What the client saw on its connection.
#[derive(Debug, Default)]
struct Seen {
    /// Streams whose response head was a plain 200.
    ok: BTreeSet<u32>,
    /// Streams whose response head was something else.
    other: BTreeSet<u32>,
    /// DATA payload bytes received, over all streams.
    data_bytes: u64,
    /// When each RST_STREAM came.
    resets: Vec<Duration>,
    /// The first GOAWAY: its error code and when.
    goaway: Option<(u32, Duration)>,
    /// WINDOW_UPDATE frames the proxy sent (it may open its own receive window).
    window_updates: u32,
    /// When the proxy closed the connection.
    closed: Option<Duration>,
}

/// Opens the connection to `addr`, asks, then only reads until `stall` has passed.
pub fn run(
    addr: SocketAddr,
    streams: u32,
    bytes: u64,
    stall: Duration,
    clock: Clock,
) -> anyhow::Result<String> {
    let mut stream = TcpStream::connect_timeout(&addr, IO_LIMIT).context("connecting")?;
    stream.set_write_timeout(Some(IO_LIMIT))?;
    stream.set_read_timeout(Some(READ_SLICE))?;
    stream.set_nodelay(true)?;
    let mut hello = PREFACE.to_vec();
    let mut settings = Vec::new();
    for (id, value) in [
        (SETTINGS_ENABLE_PUSH, 0u32),
        (SETTINGS_INITIAL_WINDOW_SIZE, 0),
    ] {
        settings.extend_from_slice(&id.to_be_bytes());
        settings.extend_from_slice(&value.to_be_bytes());
    }
    hello.extend(frame(kind::SETTINGS, 0, 0, &settings));
    let block = get_block(&format!("/bytes?n={bytes}"));
    for i in 0..streams {
        let flags = flag::END_STREAM | flag::END_HEADERS;
        hello.extend(frame(kind::HEADERS, flags, 2 * i + 1, &block));
    }
    stream.write_all(&hello).context("sending the requests")?;

    let mut seen = Seen::default();
    let mut buffered = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    while clock.now() < stall && seen.closed.is_none() {
        match stream.read(&mut buf) {
            Ok(0) => seen.closed = Some(clock.now()),
            Ok(n) => buffered.extend_from_slice(&buf[..n]),
            Err(e) if is_timeout(&e) => {}
            Err(_) => seen.closed = Some(clock.now()),
        }
        while let Some((frame_kind, flags, id, payload)) = next_frame(&mut buffered) {
            match frame_kind {
                kind::HEADERS if payload.first() == Some(&STATUS_200) => {
                    seen.ok.insert(id);
                }
                kind::HEADERS => {
                    seen.other.insert(id);
                }
                kind::DATA => seen.data_bytes += payload.len() as u64,
                kind::RST_STREAM => seen.resets.push(clock.now()),
                kind::GOAWAY if seen.goaway.is_none() => {
                    let code = payload
                        .get(4..8)
                        .map_or(0, |c| u32::from_be_bytes(c.try_into().expect("four bytes")));
                    seen.goaway = Some((code, clock.now()));
                }
                kind::SETTINGS if flags & flag::ACK == 0 => {
                    let _ = stream.write_all(&frame(kind::SETTINGS, flag::ACK, 0, &[]));
                }
                WINDOW_UPDATE => seen.window_updates += 1,
                _ => {}
            }
        }
    }
    // Closed early or not, the scenario lasts the stall, as the other host's does: the proxy's
    // memory and open files after a close are part of the picture.
    std::thread::sleep(clock.until(stall));
    Ok(summary(&seen, streams))
}

/// Takes one whole frame off the front of `buffered`: type, flags, stream, payload.
fn next_frame(buffered: &mut Vec<u8>) -> Option<(u8, u8, u32, Vec<u8>)> {
    if buffered.len() < 9 {
        return None;
    }
    let len = u32::from_be_bytes([0, buffered[0], buffered[1], buffered[2]]) as usize;
    if buffered.len() < 9 + len {
        return None;
    }
    let id = u32::from_be_bytes([buffered[5], buffered[6], buffered[7], buffered[8]]) & 0x7fff_ffff;
    let parsed = (buffered[3], buffered[4], id, buffered[9..9 + len].to_vec());
    buffered.drain(..9 + len);
    Some(parsed)
}

/// `100 × 200 head, 0 B of DATA, 100 RST_STREAM at 3.01–3.05 s, open at the end`.
fn summary(seen: &Seen, streams: u32) -> String {
    let mut parts = vec![format!("{}/{streams} × 200 head", seen.ok.len())];
    if !seen.other.is_empty() {
        parts.push(format!("{} other heads", seen.other.len()));
    }
    parts.push(format!("{} B of DATA", seen.data_bytes));
    match (seen.resets.first(), seen.resets.last()) {
        (Some(first), Some(last)) if first == last => parts.push(format!(
            "{} RST_STREAM at {}",
            seen.resets.len(),
            secs(*first)
        )),
        (Some(first), Some(last)) => parts.push(format!(
            "{} RST_STREAM at {}–{}",
            seen.resets.len(),
            secs(*first).trim_end_matches(" s"),
            secs(*last)
        )),
        _ => parts.push("no RST_STREAM".into()),
    }
    if let Some((code, at)) = seen.goaway {
        parts.push(format!("GOAWAY ({code}) at {}", secs(at)));
    }
    parts.push(match seen.closed {
        Some(at) => format!("closed at {}", secs(at)),
        None => "open at the end".into(),
    });
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_whole_frames_only() {
        let mut bytes = frame(kind::DATA, 0, 3, b"abc");
        bytes.extend(frame(kind::RST_STREAM, 0, 5, &[0, 0, 0, 8]));
        bytes.truncate(bytes.len() - 1);
        assert_eq!(
            next_frame(&mut bytes),
            Some((kind::DATA, 0, 3, b"abc".to_vec()))
        );
        assert_eq!(next_frame(&mut bytes), None);
        assert_eq!(bytes.len(), 12);
    }

    #[test]
    fn sums_up_the_connection() {
        let seen = Seen {
            ok: (0..100).map(|i| 2 * i + 1).collect(),
            resets: vec![Duration::from_millis(3010), Duration::from_millis(3050)],
            ..Seen::default()
        };
        assert_eq!(
            summary(&seen, 100),
            "100/100 × 200 head, 0 B of DATA, 2 RST_STREAM at 3.01–3.05 s, open at the end"
        );
    }
}
