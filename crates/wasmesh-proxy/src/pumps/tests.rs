//! The body pumps on their own: a client or upstream body fed frame by frame through a real
//! filter chain (`body_filter.wat`) into the channel body the other side reads, on one thread
//! as a worker runs them.

use std::collections::VecDeque;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame};
use http_body_util::BodyExt;
use tokio::sync::mpsc;

use super::{request_body, response_body, RequestAbort};
use crate::body::{channel, ChannelBody, MAX_FRAME};
use crate::timers::StreamTimers;
use wasmesh_host::chain::{ChainStream, Step};
use wasmesh_host::headers::HeaderMap;
use wasmesh_host::plugin_info::PluginInfo;
use wasmesh_host::runtime::failures::VmFailureCounters;
use wasmesh_host::runtime::{PluginFactory, PluginSlot, Runtime};
use wasmesh_host::state::SharedState;
use wasmesh_host::stream_info::StreamInfo;

/// A body failure whose cause is an I/O error of some kind, as hyper reports a body it could
/// not read (`InvalidData`: a chunk size that is not hex; `ConnectionReset`: the peer left).
#[derive(Debug)]
struct Failed(std::io::Error);

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "body failed")
    }
}

impl std::error::Error for Failed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// A body the test writes frame by frame; it ends when the test drops its sender.
struct TestBody {
    rx: mpsc::UnboundedReceiver<Result<Frame<Bytes>, Failed>>,
    /// What the test sent before the first poll, for bodies given whole.
    ready: VecDeque<Result<Frame<Bytes>, Failed>>,
}

impl Body for TestBody {
    type Data = Bytes;
    type Error = Failed;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Failed>>> {
        if let Some(frame) = self.ready.pop_front() {
            return Poll::Ready(Some(frame));
        }
        self.rx.poll_recv(cx)
    }
}

type Feed = mpsc::UnboundedSender<Result<Frame<Bytes>, Failed>>;

/// A body fed by the test as it goes.
fn fed_body() -> (Feed, TestBody) {
    let (tx, rx) = mpsc::unbounded_channel();
    let body = TestBody {
        rx,
        ready: VecDeque::new(),
    };
    (tx, body)
}

/// A body whose frames are all there at once, then ends.
fn whole_body(frames: Vec<Result<Frame<Bytes>, Failed>>) -> TestBody {
    let (_, rx) = mpsc::unbounded_channel();
    TestBody {
        rx,
        ready: frames.into(),
    }
}

fn data(bytes: &[u8]) -> Result<Frame<Bytes>, Failed> {
    Ok(Frame::data(Bytes::copy_from_slice(bytes)))
}

/// One stream through one `body_filter` whose configuration is `mode`.
struct Fixture {
    stream: Rc<ChainStream>,
    _slot: Rc<PluginSlot>,
}

impl Fixture {
    async fn new(mode: &str) -> Fixture {
        let runtime = Runtime::new().expect("the engine starts");
        let wasm = wat::parse_str(include_str!("body_filter.wat")).expect("the guest assembles");
        let module = runtime
            .compile(&wasm, "body_filter.wat")
            .expect("the guest compiles");
        let info = PluginInfo {
            name: "body".into(),
            root_id: String::new(),
            vm_id: String::new(),
            vm_config: Vec::new(),
            configuration: mode.as_bytes().to_vec(),
            fail_open: false,
            memory_bytes: 16 << 20,
            callback_time: Duration::from_secs(1),
            request_cpu: None,
            clusters: Arc::new(Vec::new()),
            version: None,
        };
        let factory = PluginFactory::from_module(&runtime, SharedState::new(), &module, info)
            .expect("the guest links");
        let counters = Arc::new(VmFailureCounters::default());
        let slot =
            PluginSlot::new(factory, Arc::new(|_, _| {}), counters).expect("the guest starts");
        let client = "10.0.0.1:40000".parse().expect("an address");
        let listener = "127.0.0.1:10000".parse().expect("an address");
        let info = Rc::new(StreamInfo::new(client, listener, "HTTP/1.1", false));
        let stream = ChainStream::new(
            std::slice::from_ref(&slot),
            info,
            Duration::from_secs(5),
            1 << 20,
        );
        let mut headers = HeaderMap::new();
        headers.add(b":method", b"POST");
        headers.add(b":path", b"/");
        headers.add(b":authority", b"svc");
        assert!(matches!(
            stream.request_headers(&mut headers, false).await,
            Step::Continue
        ));
        Fixture {
            stream,
            _slot: slot,
        }
    }

    async fn response_started(self) -> Fixture {
        let mut headers = HeaderMap::new();
        headers.add(b":status", b"200");
        assert!(matches!(
            self.stream.response_headers(&mut headers, false).await,
            Step::Continue
        ));
        self
    }
}

/// What the other side read: the data frames' sizes, the bytes, the trailers, and whether the
/// body ended in an error.
#[derive(Debug, Default)]
struct Read {
    frames: Vec<usize>,
    bytes: Vec<u8>,
    trailers: Option<http::HeaderMap>,
    failed: bool,
}

async fn read_all(mut body: ChannelBody) -> Read {
    let mut read = Read::default();
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            read.failed = true;
            break;
        };
        match frame.into_data() {
            Ok(chunk) => {
                read.frames.push(chunk.len());
                read.bytes.extend_from_slice(&chunk);
            }
            Err(frame) => read.trailers = frame.into_trailers().ok(),
        }
    }
    read
}

fn run<F: std::future::Future>(future: F) -> F::Output {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a runtime");
    tokio::task::LocalSet::new().block_on(&runtime, future)
}

fn timers() -> Rc<StreamTimers> {
    Rc::new(StreamTimers::new(
        Duration::from_secs(5),
        Duration::from_secs(5),
    ))
}

/// Starts the request pump on the client's `body`: what stops the request, the body the
/// upstream reads, and the pump's task.
fn start_request_pump(
    fixture: &Fixture,
    body: TestBody,
    timers: Rc<StreamTimers>,
) -> (Rc<RequestAbort>, ChannelBody, tokio::task::JoinHandle<()>) {
    let (tx, upstream) = channel();
    let abort = Rc::new(RequestAbort::default());
    let pump = request_body(fixture.stream.clone(), body, tx, abort.clone(), timers);
    (abort, upstream, tokio::task::spawn_local(pump))
}

fn trailers() -> http::HeaderMap {
    let mut map = http::HeaderMap::new();
    map.insert("x-checksum", http::HeaderValue::from_static("abc"));
    map
}

#[test]
fn a_request_body_passes_in_frames_of_at_most_64_kib_with_its_trailers() {
    run(async {
        let fixture = Fixture::new("pass").await;
        let big = vec![7u8; 200 * 1024];
        let body = whole_body(vec![
            data(b"head "),
            data(&big),
            data(b" tail"),
            Ok(Frame::trailers(trailers())),
        ]);
        let (abort, upstream, pump) = start_request_pump(&fixture, body, timers());
        let read = read_all(upstream).await;
        pump.await.expect("the pump ends");
        let mut expected = b"head ".to_vec();
        expected.extend_from_slice(&big);
        expected.extend_from_slice(b" tail");
        assert_eq!(read.bytes, expected);
        assert!(
            read.frames.iter().all(|&n| n <= MAX_FRAME),
            "{:?}",
            read.frames
        );
        assert_eq!(read.trailers, Some(trailers()));
        assert!(!read.failed);
        assert!(abort.step.borrow().is_none(), "nothing stopped the request");
        let info = fixture.stream.info();
        assert_eq!(info.request_body_bytes(), expected.len() as u64);
    });
}

#[test]
fn a_buffering_filter_holds_the_request_body_until_its_end_then_it_goes_on_whole() {
    run(async {
        let fixture = Fixture::new("buffer").await;
        let (feed, body) = fed_body();
        let timers = timers();
        let (_, mut upstream, pump) = start_request_pump(&fixture, body, timers.clone());
        feed.send(data(b"one ")).unwrap();
        feed.send(data(b"two ")).unwrap();
        let early = tokio::time::timeout(Duration::from_millis(50), upstream.frame()).await;
        assert!(
            early.is_err(),
            "nothing reaches the upstream while the filter buffers"
        );
        assert!(!timers.route.request_is_complete());
        feed.send(data(b"three")).unwrap();
        drop(feed); // the client's body ends
        let read = read_all(upstream).await;
        pump.await.expect("the pump ends");
        assert_eq!(read.bytes, b"one two three");
        assert!(
            timers.route.request_is_complete(),
            "the route timer starts at the end"
        );
    });
}

#[test]
fn a_reply_from_a_request_body_callback_stops_the_request_before_the_upstream_sees_a_byte() {
    run(async {
        let fixture = Fixture::new("reply").await;
        let body = whole_body(vec![data(b"secret"), data(b" more")]);
        let (abort, upstream, pump) = start_request_pump(&fixture, body, timers());
        let Step::LocalReply(reply) = abort.wait().await else {
            panic!("the filter's reply stops the request");
        };
        assert_eq!(reply.status, 403);
        assert_eq!(reply.body, b"refused");
        pump.await.expect("the pump ends");
        assert!(read_all(upstream).await.bytes.is_empty());
    });
}

#[test]
fn a_malformed_client_body_is_a_400_and_a_client_that_left_resets_the_stream() {
    run(async {
        let fixture = Fixture::new("pass").await;
        let malformed = Failed(std::io::ErrorKind::InvalidData.into());
        let body = whole_body(vec![data(b"12"), Err(malformed)]);
        let (abort, upstream, pump) = start_request_pump(&fixture, body, timers());
        let read = read_all(upstream).await;
        pump.await.expect("the pump ends");
        assert!(
            read.failed,
            "the upstream body fails too, never ends cleanly"
        );
        let Some(Step::LocalReply(reply)) = abort.step.borrow_mut().take() else {
            panic!("a malformed body is answered");
        };
        assert_eq!(reply.status, 400);
        assert_eq!(reply.details, "http1.codec_error");
    });
    run(async {
        let fixture = Fixture::new("pass").await;
        let gone = Failed(std::io::ErrorKind::ConnectionReset.into());
        let body = whole_body(vec![Err(gone)]);
        let (abort, upstream, pump) = start_request_pump(&fixture, body, timers());
        let read = read_all(upstream).await;
        pump.await.expect("the pump ends");
        assert!(read.failed);
        assert!(matches!(abort.step.borrow_mut().take(), Some(Step::Reset)));
    });
}

#[test]
fn a_response_body_goes_to_the_client_buffered_or_not_with_its_trailers() {
    for mode in ["pass", "buffer"] {
        run(async {
            let fixture = Fixture::new(mode).await.response_started().await;
            let big = vec![1u8; 100 * 1024];
            let body = whole_body(vec![
                data(&big),
                data(b"!"),
                Ok(Frame::trailers(trailers())),
            ]);
            let (tx, client) = channel();
            let timers = timers();
            let pump = response_body(fixture.stream.clone(), body, None, tx, &timers.idle, false);
            let (read, ()) = tokio::join!(read_all(client), pump);
            assert_eq!(read.bytes.len(), big.len() + 1, "{mode}");
            assert!(read.frames.iter().all(|&n| n <= MAX_FRAME), "{mode}");
            assert_eq!(read.trailers, Some(trailers()), "{mode}");
            let info = fixture.stream.info();
            assert_eq!(info.response_body_bytes(), big.len() as u64 + 1, "{mode}");
        });
    }
}

#[test]
fn a_response_pump_stops_when_the_client_is_gone() {
    run(async {
        let fixture = Fixture::new("pass").await.response_started().await;
        let (feed, body) = fed_body();
        let (tx, client) = channel();
        drop(client);
        feed.send(data(b"nobody reads this")).unwrap();
        let timers = timers();
        // The upstream's body never ends (the feed stays open): only the client's absence can
        // end the pump.
        let pump = response_body(fixture.stream.clone(), body, None, tx, &timers.idle, false);
        tokio::time::timeout(Duration::from_secs(5), pump)
            .await
            .expect("the pump returns once nobody reads");
        drop(feed);
    });
}
