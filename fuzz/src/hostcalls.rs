//! The `hostcalls` harness: the proxy-wasm ABI boundary through wasmesh's real runtime. The
//! guest ([`ops::guest_wat`]) is compiled once into a [`PluginFactory`], as `wasmesh check`
//! does; each input then gets a fresh VM over fresh host-wide stores (so no input depends on an
//! earlier one), stream contexts holding what the input asks for, its bytes and calls written
//! into guest memory, and one callback that makes the calls ([`input`] has the format).
//!
//! The invariant: every hostcall returns a status its family defines (the guest traps on any
//! other), and the callback returns or fails only because the input called `proc_exit`. A host
//! panic, or a read past guest memory (a panic in Rust's bounds checks), aborts the process.

pub mod input;
pub mod ops;
#[cfg(test)]
mod seeds;

use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::{Arc, OnceLock};

use wasmesh::config::Config;
use wasmesh_host::headers::HeaderMap;
use wasmesh_host::runtime::{PluginFactory, PluginVm, Runtime, VmFailure};
use wasmesh_host::state::SharedState;
use wasmesh_host::store::{CallResponse, HttpStream};
use wasmesh_host::stream_info::StreamInfo;

use input::{Input, MAX_CALLS};

/// Guest addresses of the script and of the statuses (see `guests/hostcalls.wat`).
const SCRIPT: usize = 0x10000;
const CALLS: usize = 0x10010;
const STATUSES: usize = 0x11000;
/// The cluster `proxy_http_call` may name.
pub const CLUSTER: &str = "fuzz-cluster";

/// The compiled guest, kept for the whole process.
pub struct Abi {
    factory: Arc<PluginFactory>,
    _runtime: Arc<Runtime>,
}

/// The process's [`Abi`], built on first use.
pub fn abi() -> &'static Abi {
    static ABI: OnceLock<Abi> = OnceLock::new();
    ABI.get_or_init(Abi::start)
}

impl Abi {
    fn start() -> Abi {
        // Compiled modules stay in memory: the fuzzer must not write to the user's cache.
        std::env::set_var("WASMESH_CACHE_DIR", "off");
        let dir = crate::front::scratch_dir("hostcalls");
        let wasm = wat::parse_str(ops::guest_wat()).expect("the hostcalls guest assembles");
        std::fs::write(dir.join("hostcalls.wasm"), wasm).expect("writing hostcalls.wasm");
        let mut config = Config::parse(&format!(
            r#"{{
  "admin": {{ "address": "127.0.0.1:0" }},
  "plugins": [{{ "name": "hostcalls", "wasm": "hostcalls.wasm", "root_id": "fuzz-root",
                 "vm_id": "fuzz-vm", "vm_config": "vm config", "configuration": "plugin config" }}],
  "clusters": [{{ "name": "{CLUSTER}", "endpoints": ["127.0.0.1:1"] }}]
}}"#
        ))
        .expect("the hostcalls config parses");
        config.resolve_paths(&dir);
        let runtime = Runtime::new().expect("the wasm engine starts");
        let clusters = Arc::new(vec![CLUSTER.to_string()]);
        let plugin = &config.plugins[0];
        let factory = PluginFactory::new(
            &runtime,
            SharedState::new(),
            &plugin.wasm,
            plugin.info(clusters),
        )
        .expect("the hostcalls guest links against the host ABI");
        let _ = std::fs::remove_dir_all(&dir);
        Abi {
            factory,
            _runtime: runtime,
        }
    }

    /// Runs one input; panics when the invariant breaks. Answers the status of each call, as
    /// the guest stored it (none when the input ended the VM with `proc_exit`).
    pub fn run(&self, data: &[u8]) -> Vec<u32> {
        let input = Input::decode(data);
        let factory = self.factory.with_shared(SharedState::new());
        let mut vm = factory
            .instantiate(Arc::new(|_, _| {}))
            .expect("the hostcalls guest instantiates");
        let root = vm.state().root_context;
        let ctx = add_stream(&mut vm, input.state);
        if input.state & 0x80 != 0 {
            add_stream(&mut vm, input.state);
        }
        if input.state & 0x40 != 0 {
            vm.state().pending_done.insert(ctx);
        }
        write_script(&mut vm, &input);
        if let Err(failure) = run_callback(&mut vm, input.callback, root, ctx) {
            // `proc_exit` is the one hostcall that ends a VM on purpose.
            assert!(
                failure.reason.contains("proc_exit"),
                "the VM failed: {failure}"
            );
            return Vec::new();
        }
        let memory = vm.state().memory.expect("the guest exports its memory");
        let data = memory.data(vm.store_mut());
        let word = |at: usize| u32::from_le_bytes(data[at..at + 4].try_into().expect("4 bytes"));
        (0..input.calls.len())
            .map(|i| word(STATUSES + i * 4))
            .collect()
    }
}

/// A stream context with the parts `state` names (bits 0-5), created as the filter chain does.
fn add_stream(vm: &mut PluginVm, state: u8) -> u32 {
    let part = |bit: u8| state & (1 << bit) != 0;
    let client: SocketAddr = "10.1.2.3:40000".parse().expect("an address");
    let listener: SocketAddr = "127.0.0.1:10000".parse().expect("an address");
    let info = Rc::new(StreamInfo::new(client, listener, "HTTP/1.1", false));
    info.upstream_picked("127.0.0.1:1".parse().expect("an address"));
    let mut stream = HttpStream::new(info.clone(), Rc::new(tokio::sync::Notify::new()));
    let request = map(&[
        (":method", "POST"),
        (":path", "/fuzz?q=1"),
        (":authority", "fuzz"),
        (":scheme", "http"),
        ("user-agent", "fuzz"),
        ("x-request-id", "42"),
    ]);
    if part(0) {
        info.request_headers_ended(request.clone());
        stream.request_headers = Some(request);
    }
    if part(1) {
        stream.request_body = Some(b"request body".to_vec());
    }
    if part(2) {
        stream.request_trailers = Some(map(&[("x-request-trailer", "1")]));
    }
    if part(3) {
        let response = map(&[(":status", "200"), ("content-type", "text/plain")]);
        info.answered(200, "via_upstream");
        info.response_headers_ended(response.clone());
        stream.response_headers = Some(response);
    }
    if part(4) {
        stream.response_body = Some(b"response body".to_vec());
    }
    if part(5) {
        stream.response_trailers = Some(map(&[("grpc-status", "0")]));
    }
    let state = vm.state();
    let ctx = state.fresh_id();
    let root = state.root_context;
    state.streams.insert(ctx, stream);
    vm.on_context_create(ctx, root)
        .expect("the guest's proxy_on_context_create does nothing");
    ctx
}

fn map(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.add(name.as_bytes(), value.as_bytes());
    }
    map
}

/// Writes the input's bytes at address 0 and its calls where the guest's interpreter reads them.
fn write_script(vm: &mut PluginVm, input: &Input) {
    let memory = vm.state().memory.expect("the guest exports its memory");
    let data = memory.data_mut(vm.store_mut());
    data[..input.memory.len()].copy_from_slice(&input.memory);
    let mut put = |at: usize, word: u32| data[at..at + 4].copy_from_slice(&word.to_le_bytes());
    put(SCRIPT, input.calls.len().min(MAX_CALLS) as u32);
    put(SCRIPT + 4, input.alloc);
    for (i, call) in input.calls.iter().enumerate() {
        let at = CALLS + i * 44;
        put(at, u32::from(call.op));
        for (j, arg) in call.args.iter().enumerate() {
            put(at + 4 + j * 4, *arg);
        }
    }
}

/// Runs the callback `which` names (modulo 12), as the proxy would: stream callbacks in the
/// stream context with its sizes, timers and queues in the root context, an HTTP call's answer
/// readable only while its callback runs.
fn run_callback(vm: &mut PluginVm, which: u8, root: u32, ctx: u32) -> Result<(), VmFailure> {
    let stream = &vm.state().streams[&ctx];
    let pairs = |m: &Option<HeaderMap>| m.as_ref().map_or(0, |m| m.len() as u32);
    let bytes = |b: &Option<Vec<u8>>| b.as_ref().map_or(0, |b| b.len() as u32);
    let sizes = [
        pairs(&stream.request_headers),
        bytes(&stream.request_body),
        pairs(&stream.request_trailers),
        pairs(&stream.response_headers),
        bytes(&stream.response_body),
        pairs(&stream.response_trailers),
    ];
    match which % 12 {
        0 => vm.on_request_headers(ctx, sizes[0], false).map(drop),
        1 => vm.on_request_body(ctx, sizes[1], true).map(drop),
        2 => vm.on_request_trailers(ctx, sizes[2]).map(drop),
        3 => vm.on_response_headers(ctx, sizes[3], false).map(drop),
        4 => vm.on_response_body(ctx, sizes[4], true).map(drop),
        5 => vm.on_response_trailers(ctx, sizes[5]).map(drop),
        6 => vm.on_log(ctx),
        7 => vm.on_done(ctx).map(drop),
        8 => vm.on_tick(root),
        9 => vm.on_queue_ready(root, 1),
        caller => {
            let caller = if caller == 10 { root } else { ctx };
            let response = CallResponse {
                headers: map(&[(":status", "200"), ("x-call", "answer")]),
                body: b"call body".to_vec(),
                trailers: map(&[("x-call-trailer", "t")]),
            };
            let state = vm.state();
            let token = state.fresh_id();
            state.calls_in_flight.insert(token);
            state.call_response = Some(response);
            let answered = vm.on_http_call_response(caller, token, 2, 9, 1);
            vm.state().call_response = None;
            answered
        }
    }
}
