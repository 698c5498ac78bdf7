//! The chain driven in process over WAT filters (`tagger.wat`): Envoy's order, local replies,
//! pauses resumed from outside a callback, `fail_open`, and the end of every context.

use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use super::{ChainStream, Step};
use crate::headers::HeaderMap;
use crate::plugin_info::PluginInfo;
use crate::runtime::failures::VmFailureCounters;
use crate::runtime::{PluginFactory, PluginSlot, PluginVm, Runtime};
use crate::state::SharedState;
use crate::stream_info::StreamInfo;

const VM_ID: &str = "chain-tests";

/// The filters of one chain, on stores of their own.
struct Chain {
    slots: Vec<Rc<PluginSlot>>,
    shared: Arc<SharedState>,
    counters: Arc<VmFailureCounters>,
}

impl Chain {
    /// One tagger per name, in chain order; `fail_open` for all of them.
    fn of(names: &[&str], fail_open: bool) -> Chain {
        let runtime = Runtime::new().expect("the engine starts");
        let wasm = wat::parse_str(include_str!("tagger.wat")).expect("tagger.wat assembles");
        let module = runtime
            .compile(&wasm, "tagger.wat")
            .expect("tagger compiles");
        let shared = SharedState::new();
        let counters = Arc::new(VmFailureCounters::default());
        let slots = names
            .iter()
            .map(|name| {
                let info = PluginInfo {
                    name: name.to_string(),
                    root_id: String::new(),
                    vm_id: VM_ID.into(),
                    vm_config: Vec::new(),
                    configuration: name.as_bytes().to_vec(),
                    fail_open,
                    memory_bytes: 16 << 20,
                    callback_time: Duration::from_secs(1),
                    request_cpu: None,
                    clusters: Arc::new(Vec::new()),
                    version: None,
                };
                let factory = PluginFactory::from_module(&runtime, shared.clone(), &module, info)
                    .expect("tagger links");
                PluginSlot::new(factory, Arc::new(|_, _| {}), counters.clone())
                    .expect("tagger starts")
            })
            .collect();
        Chain {
            slots,
            shared,
            counters,
        }
    }

    fn stream(&self) -> Rc<ChainStream> {
        let client = "10.0.0.1:40000".parse().expect("an address");
        let listener = "127.0.0.1:10000".parse().expect("an address");
        let info = Rc::new(StreamInfo::new(client, listener, "HTTP/1.1", false));
        ChainStream::new(&self.slots, info, Duration::from_secs(5), 1 << 20)
    }

    /// The filters whose `on_log` ran.
    fn logged(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .shared
            .shared_data
            .keys(VM_ID)
            .into_iter()
            .map(|k| String::from_utf8(k).expect("a name"))
            .collect();
        names.sort();
        names
    }
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a runtime")
        .block_on(future)
}

fn request() -> HeaderMap {
    let mut map = HeaderMap::new();
    map.add(b":method", b"GET");
    map.add(b":path", b"/");
    map.add(b":authority", b"svc");
    map
}

fn tags(map: &HeaderMap) -> Vec<String> {
    map.iter()
        .filter(|(k, _)| *k == b"x-chain")
        .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
        .collect()
}

#[test]
fn requests_go_through_in_chain_order_and_responses_in_reverse() {
    let chain = Chain::of(&["a", "b", "c"], false);
    let stream = chain.stream();
    let mut headers = request();
    let step = block_on(stream.request_headers(&mut headers, true));
    assert!(matches!(step, Step::Continue), "{step:?}");
    assert_eq!(tags(&headers), ["a", "b", "c"]);

    let mut response = HeaderMap::new();
    response.add(b":status", b"200");
    let step = block_on(stream.response_headers(&mut response, true));
    assert!(matches!(step, Step::Continue), "{step:?}");
    assert_eq!(tags(&response), ["c", "b", "a"]);
    assert!(
        chain.logged().is_empty(),
        "no context ends while the stream lives"
    );

    drop(stream);
    assert_eq!(chain.logged(), ["a", "b", "c"]);
}

#[test]
fn a_local_reply_stops_the_chain_and_later_filters_never_see_the_request() {
    let chain = Chain::of(&["a", "reply", "c"], false);
    let stream = chain.stream();
    let mut headers = request();
    let Step::LocalReply(reply) = block_on(stream.request_headers(&mut headers, true)) else {
        panic!("the second filter answers");
    };
    assert_eq!(reply.status, 403);
    assert_eq!(reply.details, "denied");
    assert_eq!(reply.body, b"reply");
    assert_eq!(tags(&headers), ["a"], "the headers as the phase left them");
    drop(stream);
    // `c` never had a context: contexts are created on first use, as in Envoy.
    assert_eq!(chain.logged(), ["a", "reply"]);
}

#[test]
fn a_paused_stream_resumes_when_a_tick_continues_it() {
    let chain = Chain::of(&["a", "pause", "c"], false);
    let stream = chain.stream();
    let mut headers = request();
    let pauser = chain.slots[1].clone();
    let step = block_on(async {
        let mut request = std::pin::pin!(stream.request_headers(&mut headers, true));
        let waited = tokio::time::timeout(Duration::from_millis(20), request.as_mut()).await;
        assert!(waited.is_err(), "the stream waits while the filter pauses");
        let ticked = pauser.with_vm(PluginVm::deliver_tick);
        assert!(matches!(ticked, Some(Ok(()))), "the tick ran");
        request.await
    });
    assert!(matches!(step, Step::Continue), "{step:?}");
    assert_eq!(tags(&headers), ["a", "pause", "c"]);
}

#[test]
fn a_failing_filter_is_skipped_when_it_fails_open() {
    let chain = Chain::of(&["a", "trap", "c"], true);
    let stream = chain.stream();
    let mut headers = request();
    let step = block_on(stream.request_headers(&mut headers, true));
    assert!(matches!(step, Step::Continue), "{step:?}");
    assert_eq!(tags(&headers), ["a", "c"]);
    assert_eq!(
        chain.counters.by_kind(),
        [("trap".to_string(), "trap", 1)],
        "the failure is counted by plugin and kind"
    );
}

#[test]
fn a_failing_filter_refuses_the_stream_when_it_fails_closed() {
    let chain = Chain::of(&["a", "trap", "c"], false);
    let stream = chain.stream();
    let mut headers = request();
    let Step::LocalReply(reply) = block_on(stream.request_headers(&mut headers, true)) else {
        panic!("the stream is refused");
    };
    assert_eq!(reply.status, 503);
    assert_eq!(reply.details, "wasm_fail_closed");
    assert_eq!(tags(&headers), ["a"]);
}
