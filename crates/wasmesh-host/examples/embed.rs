//! Embedding wasmesh-host: what a proxy other than wasmesh does to run proxy-wasm filters.
//! It loads the modules given on the command line, one plugin each, and sends one request's
//! headers and a response's headers through them in Envoy's order, then prints what reached
//! the upstream and the client.
//!
//! ```sh
//! cargo xtask build-filters
//! cargo run -p wasmesh-host --example embed -- \
//!     'target/wasm32-wasip1/wasm/wasmesh_filter_headers.wasm={"request": {"add": {"x-hello": "world"}}}'
//! ```
//!
//! Each argument is `path` or `path=configuration`. A real embedder does the same per stream,
//! with the request's data, and applies each slot's effects (ticks, HTTP calls) as the
//! `wasmesh` proxy does in `crates/wasmesh-proxy/src/effects.rs`.

use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use wasmesh_host::chain::{ChainStream, Step};
use wasmesh_host::headers::HeaderMap;
use wasmesh_host::plugin_info::PluginInfo;
use wasmesh_host::runtime::failures::VmFailureCounters;
use wasmesh_host::runtime::{PluginFactory, PluginSlot, Runtime};
use wasmesh_host::state::SharedState;
use wasmesh_host::stream_info::StreamInfo;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Guest log lines go through the `log` crate (target `wasm`).
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let runtime = Runtime::new()?;
    // Shared data, queues and metrics: one set for the process, as in Envoy.
    let shared = SharedState::new();
    let counters = Arc::new(VmFailureCounters::default());
    let mut slots = Vec::new();
    for (i, arg) in std::env::args().skip(1).enumerate() {
        let (path, configuration) = arg.split_once('=').unwrap_or((&arg, ""));
        let info = PluginInfo {
            name: format!("plugin-{i}"),
            root_id: String::new(),
            vm_id: String::new(),
            vm_config: Vec::new(),
            configuration: configuration.as_bytes().to_vec(),
            fail_open: false,
            memory_bytes: 64 << 20,
            callback_time: Duration::from_millis(100),
            request_cpu: None,
            clusters: Arc::new(Vec::new()),
            version: None,
        };
        let factory = PluginFactory::new(&runtime, shared.clone(), path.as_ref(), info)?;
        // One VM per plugin on this thread; a multi-threaded proxy makes one slot per worker.
        slots.push(PluginSlot::new(
            factory,
            Arc::new(|_, _| {}),
            counters.clone(),
        )?);
    }
    if slots.is_empty() {
        return Err("usage: embed <module.wasm[=configuration]>...".into());
    }

    let client = "127.0.0.1:50000".parse()?;
    let listener = "127.0.0.1:10000".parse()?;
    let info = Rc::new(StreamInfo::new(client, listener, "HTTP/1.1", false));
    let stream = ChainStream::new(&slots, info, Duration::from_secs(15), 1 << 20);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()?;
    runtime.block_on(async {
        let mut request = HeaderMap::new();
        for (name, value) in [
            (":method", "GET"),
            (":path", "/"),
            (":authority", "example"),
        ] {
            request.add(name.as_bytes(), value.as_bytes());
        }
        match stream.request_headers(&mut request, true).await {
            Step::Continue => print("the upstream gets", &request),
            Step::LocalReply(reply) => {
                println!("a filter answered {} ({})", reply.status, reply.details);
                return;
            }
            Step::Reset => {
                println!("a filter reset the stream");
                return;
            }
        }
        let mut response = HeaderMap::new();
        response.add(b":status", b"200");
        match stream.response_headers(&mut response, true).await {
            Step::Continue => print("the client gets", &response),
            other => println!("the response ended in {other:?}"),
        }
    });
    // Dropping the stream runs on_log, on_done and on_delete in every filter.
    drop(stream);
    Ok(())
}

fn print(what: &str, map: &HeaderMap) {
    println!("{what}:");
    for (name, value) in map.iter() {
        println!(
            "  {}: {}",
            String::from_utf8_lossy(name),
            String::from_utf8_lossy(value)
        );
    }
}
