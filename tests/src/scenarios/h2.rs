//! What an h2 client can do to a connection that a well-behaved client never does: drip a
//! request's header block, or flood the connection with resets, SETTINGS, PINGs or
//! CONTINUATION frames. Each must end with the connection closed (or held back by flow
//! control) while other clients are served, and never with the proxy's memory growing.

use std::time::{Duration, Instant};

use super::isolation::rss_kib;
use crate::client::Client;
use crate::h2_raw::{flag, frame, get_block, kind, Ended, H2Connection, STATUS_200};
use crate::{Backend, Cluster, Listener, MeshConfig, Proxy, ProxyKind, Route};

/// The head timeout of [`a_dripped_header_block_is_cut`].
const HEAD_TIMEOUT: Duration = Duration::from_millis(1000);

fn proxy_with_head_timeout(kind: ProxyKind, backend: &crate::BackendHandle) -> Proxy {
    let config = MeshConfig::new()
        .cluster(Cluster::fixed("backend", [backend.addr]))
        .listener(
            Listener::new("main")
                .request_headers_timeout_ms(HEAD_TIMEOUT.as_millis() as u64)
                .route(Route::prefix("/", "backend")),
        );
    kind.start(&config)
}

/// After a first request is served, the client opens a second header block and drips its
/// CONTINUATION a byte every 200 ms: the connection is closed at the head timeout (wasmesh's
/// `request_timeout_ms`, here 1 s), while other clients are served. hyper shows a request only
/// once its header block is whole, so wasmesh times header blocks from the frames themselves.
///
/// wasmesh only: Envoy 1.40 with `request_headers_timeout: 1s` kept the dripping connection
/// open for the whole 8 s the test drips.
pub fn a_dripped_header_block_is_cut(kind: ProxyKind) {
    let host = kind.name();
    let backend = Backend::start("b1");
    let proxy = proxy_with_head_timeout(kind, &backend);
    let mut h2 = H2Connection::connect(proxy.listener("main"));
    assert_eq!(h2.get(1, "/first"), Ok(STATUS_200), "{host}");

    let block = get_block("/dripped");
    h2.send(&frame(kind::HEADERS, 0, 3, &block[..2]))
        .expect("sending HEADERS");
    let rest = &block[2..];
    let mut continuation = frame(kind::CONTINUATION, flag::END_HEADERS, 3, rest);
    continuation.truncate(9 + 1);
    h2.send(&continuation).expect("sending a CONTINUATION head");
    let started = Instant::now();
    let mut dripping_for = None;
    for byte in rest.iter().skip(1).cycle().take(40) {
        std::thread::sleep(Duration::from_millis(200));
        if h2.send(&[*byte]).is_err() {
            dripping_for = Some(started.elapsed());
            break;
        }
        if let Err(Ended::Closed) = h2.read_frame(Duration::from_millis(1)) {
            dripping_for = Some(started.elapsed());
            break;
        }
    }
    let cut_after = dripping_for
        .unwrap_or_else(|| panic!("{host}: a header block dripped for 8 s was never cut"));
    assert!(
        cut_after < HEAD_TIMEOUT * 4,
        "{host}: cut only after {cut_after:?}"
    );
    let other = Client::http2().get(&proxy.url("main", "/other"), &[]);
    assert_eq!(other.status, 200, "{host}");
}

/// A connection that idles between requests, sending a PING every 200 ms for three head
/// timeouts, is not mistaken for a slow head: its next request is served on it.
pub fn pings_between_requests_keep_the_connection(kind: ProxyKind) {
    let host = kind.name();
    let backend = Backend::start("b1");
    let proxy = proxy_with_head_timeout(kind, &backend);
    let mut h2 = H2Connection::connect(proxy.listener("main"));
    assert_eq!(h2.get(1, "/first"), Ok(STATUS_200), "{host}");
    let until = Instant::now() + HEAD_TIMEOUT * 3;
    while Instant::now() < until {
        h2.send(&frame(kind::PING, 0, 0, &[7; 8]))
            .unwrap_or_else(|e| panic!("{host}: the idle connection was closed: {e}"));
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(h2.get(3, "/second"), Ok(STATUS_200), "{host}");
}

/// A flood one connection sends, in one write each step.
#[derive(Debug, Clone, Copy)]
pub enum Flood {
    /// HEADERS then RST_STREAM(CANCEL), stream after stream (CVE-2023-44487).
    RapidReset,
    /// One header block continued without end (CVE-2024-27316 and kin).
    Continuation,
    /// SETTINGS frames, never reading the ACKs.
    Settings,
    /// PING frames, never reading the answers.
    Ping,
}

impl Flood {
    /// The `reason` wasmesh counts the connection under.
    fn reason(self) -> &'static str {
        match self {
            Flood::RapidReset | Flood::Continuation => "enhance_your_calm",
            Flood::Settings | Flood::Ping => "control_frame_flood",
        }
    }

    /// The bytes of step `i` of the flood.
    fn step(self, i: u32) -> Vec<u8> {
        match self {
            Flood::RapidReset => {
                let stream = 2 * i + 1;
                let mut out = frame(kind::HEADERS, flag::END_HEADERS, stream, &get_block("/r"));
                out.extend(frame(kind::RST_STREAM, 0, stream, &8u32.to_be_bytes()));
                out
            }
            Flood::Continuation if i == 0 => frame(kind::HEADERS, 0, 1, &get_block("/c")),
            Flood::Continuation => {
                // A literal header (never indexed, new name) of 40 bytes, again and again.
                let mut field = vec![0x10, 16];
                field.extend_from_slice(b"x-continuation-a");
                field.push(20);
                field.extend_from_slice(&[b'v'; 20]);
                frame(kind::CONTINUATION, 0, 1, &field)
            }
            Flood::Settings => frame(kind::SETTINGS, 0, 0, &[0, 3, 0, 0, 0, 100]),
            Flood::Ping => frame(kind::PING, 0, 0, &i.to_be_bytes().repeat(2)),
        }
    }
}

/// Steps of each flood (each a few dozen bytes: about 40 MiB in all), sent in batches.
const FLOOD_STEPS: u32 = 1_000_000;
const BATCH: u32 = 20_000;
/// The most a flood may grow the proxy's memory.
const MAX_GROWTH_KIB: u64 = 32 * 1024;

/// One client floods a connection: the proxy ends it with a GOAWAY or a close, keeps serving
/// others, and its memory stays flat. wasmesh counts it in
/// `wasmesh_downstream_protocol_errors_total{reason}`. (Without wasmesh's own SETTINGS/PING
/// rate limit, hyper answered those floods at the pace the client read, holding no memory
/// but serving the flood for as long as it lasted; Envoy closes such a connection once
/// 1 000 answers queue up.)
pub fn floods_end_the_connection_not_the_proxy(kind: ProxyKind, flood: Flood) {
    let host = kind.name();
    let backend = Backend::start("b1");
    let config = MeshConfig::new()
        .cluster(Cluster::fixed("backend", [backend.addr]))
        .listener(Listener::new("main").route(Route::prefix("/", "backend")));
    let proxy = kind.start(&config);
    let before = rss_kib(&proxy);
    let mut h2 = H2Connection::connect(proxy.listener("main"));
    let started = Instant::now();
    let mut stalled = false;
    let mut i = 0;
    while i < FLOOD_STEPS {
        let batch: Vec<u8> = (i..i + BATCH).flat_map(|n| flood.step(n)).collect();
        i += BATCH;
        // Writes that block are the proxy's flow control: wait at most a second for them.
        let sent = std::thread::scope(|s| {
            let writer = s.spawn(|| h2.send(&batch));
            let deadline = Instant::now() + Duration::from_secs(1);
            while !writer.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            writer.is_finished().then(|| writer.join().expect("writer"))
        });
        match sent {
            Some(Ok(())) => {}
            Some(Err(_)) => break,
            None => {
                stalled = true;
                break;
            }
        }
    }
    let ended = if stalled {
        Ended::Open
    } else {
        h2.ended_within(Duration::from_secs(3))
    };
    let growth = rss_kib(&proxy).saturating_sub(before);
    eprintln!(
        "{host}: {flood:?}: {i} steps in {:?}, ended {ended:?}, stalled {stalled}, RSS +{growth} KiB",
        started.elapsed()
    );
    assert_ne!(
        ended,
        Ended::Open,
        "{host}: {flood:?}: {i} steps taken (stalled: {stalled}) and the connection still open"
    );
    assert!(
        growth < MAX_GROWTH_KIB,
        "{host}: {flood:?} grew the proxy by {growth} KiB"
    );
    let other = Client::http2().get(&proxy.url("main", "/other"), &[]);
    assert_eq!(other.status, 200, "{host}: {flood:?}");
    if kind == ProxyKind::Wasmesh {
        let series = format!(
            "wasmesh_downstream_protocol_errors_total{{reason=\"{}\"}} 1",
            flood.reason()
        );
        let metrics = proxy.admin_get("/metrics").text();
        assert!(metrics.contains(&series), "{flood:?}: {series}\n{metrics}");
    }
}

/// `max_concurrent_streams: 2` and a slow backend, three requests opened at once on one
/// connection. wasmesh answers two and refuses the third with `RST_STREAM REFUSED_STREAM`
/// (which a client may retry), and the connection serves on. Envoy 1.40 treats the third
/// stream as a connection error: it closes the connection and answers none. RFC 9113 §5.1.2 allows either;
/// wasmesh takes the one that loses the client nothing.
pub fn streams_past_the_limit_are_refused(kind: ProxyKind) {
    let host = kind.name();
    let backend = Backend::start("slow").with_delay(Duration::from_millis(800));
    let config = MeshConfig::new()
        .cluster(Cluster::fixed("backend", [backend.addr]))
        .listener(
            Listener::new("main")
                .max_concurrent_streams(2)
                .route(Route::prefix("/", "backend")),
        );
    let proxy = kind.start(&config);
    let mut h2 = H2Connection::connect(proxy.listener("main"));
    // The server's SETTINGS first, so the limit is in force before the streams open.
    let settings = h2
        .read_frame(Duration::from_secs(5))
        .expect("the server's SETTINGS");
    assert_eq!(settings.kind, kind::SETTINGS, "{host}");
    h2.send(&frame(kind::SETTINGS, flag::ACK, 0, &[]))
        .expect("acknowledging");
    let flags = flag::END_STREAM | flag::END_HEADERS;
    let streams: Vec<u8> = [1u32, 3, 5]
        .iter()
        .flat_map(|id| frame(kind::HEADERS, flags, *id, &get_block("/slow")))
        .collect();
    h2.send(&streams).expect("opening three streams");
    let (mut answered, mut refused, mut ended) = (Vec::new(), Vec::new(), None);
    let deadline = Instant::now() + Duration::from_secs(5);
    while answered.len() + refused.len() < 3 && ended.is_none() && Instant::now() < deadline {
        match h2.read_frame(deadline - Instant::now()) {
            Ok(f) if f.kind == kind::HEADERS => answered.push(f.stream),
            Ok(f) if f.kind == kind::RST_STREAM => refused.push((f.stream, code(&f.payload, 0))),
            Ok(f) if f.kind == kind::GOAWAY => ended = Some(Ended::GoAway(code(&f.payload, 4))),
            Ok(_) => {}
            Err(Ended::Open) => {}
            Err(closed) => ended = Some(closed),
        }
    }
    answered.sort_unstable();
    match kind {
        ProxyKind::Wasmesh => {
            let seen = (answered, refused, ended);
            assert_eq!(seen, (vec![1, 3], vec![(5, 0x7)], None), "{host}");
            assert_eq!(h2.get(7, "/after"), Ok(STATUS_200), "{host}: it serves on");
        }
        ProxyKind::Envoy => {
            assert!(answered.is_empty(), "{host}: {answered:?}");
            assert!(ended.is_some(), "{host}: the connection is still up");
        }
    }
}

/// The 32-bit error code at `at` in a frame's payload.
fn code(payload: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(payload[at..at + 4].try_into().expect("an error code"))
}
