//! The CPU one filter costs per HTTP stream, measured in process: no sockets, no hyper, only
//! the host's callbacks into the filter and the filter's own work, so two builds of a filter
//! can be compared to a few percent (a whole proxy under load varies by ±10 % run to run here).
//!
//! `cargo run --release -p wasmesh-harness --example stream_cost -- <filter.wasm>
//! '<configuration json>' [streams] [in_flight]`
//!
//! A `.wat` file is assembled first: `crates/wasmesh-harness/examples/noop.wat`, a filter that
//! does nothing, gives what the host itself costs per stream.
//!
//! Each stream is a GET with its request headers, then (once `in_flight` newer streams are
//! open, as under a load generator with that many connections) a 200 with a 12-byte body and
//! its end (`on_log`, `on_done`, `on_delete`). Prints five runs of `streams` streams each, in
//! µs per stream, after a warm-up run.
use std::collections::VecDeque;
use std::time::Instant;

use wasmesh_harness::{HarnessError, Plugin, Stream};

const REQUEST: [(&str, &str); 6] = [
    (":method", "GET"),
    (":path", "/hello"),
    (":authority", "127.0.0.1:10100"),
    (":scheme", "http"),
    ("user-agent", "wrk"),
    ("x-envoy-original-dst-host", "127.0.0.1:8081"),
];

/// What `lb` would have echoed is there too, for filters that read it (`failover`).
const RESPONSE: [(&str, &str); 4] = [
    (":status", "200"),
    ("content-length", "12"),
    ("content-type", "text/plain"),
    ("x-wasmesh-endpoint", "127.0.0.1:8081"),
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: stream_cost <filter.wasm> [configuration] [streams] [in_flight]";
    let wasm = args.next().ok_or(usage)?;
    let configuration = args.next().unwrap_or_default();
    let streams: usize = args.next().map_or(Ok(200_000), |s| s.parse())?;
    let in_flight: usize = args.next().map_or(Ok(64), |s| s.parse())?;
    let builder = if wasm.ends_with(".wat") {
        Plugin::from_bytes(wat::parse_file(&wasm)?)
    } else {
        Plugin::load(&wasm)
    };
    let plugin = builder.configuration(configuration).start()?;
    run(&plugin, streams / 10, in_flight)?;
    let mut samples = (0..5)
        .map(|_| run(&plugin, streams, in_flight))
        .collect::<Result<Vec<f64>, _>>()?;
    samples.sort_by(f64::total_cmp);
    println!(
        "{wasm}: µs per stream {samples:.2?}, median {:.2}",
        samples[2]
    );
    if let Some(failure) = plugin.failure() {
        return Err(format!("the VM failed: {failure}").into());
    }
    Ok(())
}

/// Runs `streams` streams, `in_flight` of them open at a time; µs per stream.
fn run(plugin: &Plugin, streams: usize, in_flight: usize) -> Result<f64, HarnessError> {
    let mut open = VecDeque::with_capacity(in_flight + 1);
    let started = Instant::now();
    for _ in 0..streams {
        let mut stream = plugin.stream()?;
        stream.request_headers(&REQUEST, true)?;
        open.push_back(stream);
        if open.len() > in_flight {
            if let Some(oldest) = open.pop_front() {
                finish(oldest)?;
            }
        }
    }
    for stream in open {
        finish(stream)?;
    }
    Ok(started.elapsed().as_secs_f64() * 1e6 / streams as f64)
}

fn finish(mut stream: Stream) -> Result<(), HarnessError> {
    stream.response_headers(&RESPONSE, false)?;
    stream.response_body(b"hello world\n", true)?;
    stream.end()
}
