//! The `tcp` mode's printed report: setup, one line per case (median and min–max over
//! rounds), then wasmesh against Envoy without and with the network filter.

use crate::args::TcpArgs;
use crate::machine::Machine;
use crate::pinned::median;
use crate::setup;
use crate::tcp::measure::{Hop, Results, Sample, CASES};
use wasmesh_tests::ProxyKind;

/// Prints everything to stdout (progress went to stderr), ready to paste into a README.
pub fn print(
    args: &TcpArgs,
    before: &Machine,
    after: &Machine,
    envoy_version: &str,
    results: &Results,
) {
    let upstream = "keep-alive HTTP/1.1 relayed as bytes (wasmesh: a `tcp_proxy` listener; Envoy: the `tcp_proxy` network filter) to an in-process wasmesh-backend echo";
    setup::print(&args.load, before, after, envoy_version, upstream);
    println!("figures:  median (min–max) over rounds; cpu = the relaying process's user+system time per request during the measurement (the relay: its one thread); busy = the share of one core it used");
    println!("filter:   tests/guests/tcp-test with {{\"quiet\": true}}: reads each chunk's size both ways and counts the bytes in two counters (Envoy: envoy.filters.network.wasm, V8)");
    match crate::affinity::split(before.cpus) {
        Some((own, rest)) => println!(
            "cores:    each proxy alone on CPU {own}; wrk, the backend and the relay on CPU {rest}"
        ),
        None => println!("cores:    one: everything shares it"),
    }
    println!();
    crate::pinned::print_table(
        CASES
            .iter()
            .zip(results)
            .map(|(c, s)| (c.label(), s.as_slice())),
    );
    println!();
    for filter in [false, true] {
        let of = |host, figure: fn(&Sample) -> Option<f64>| {
            let i = CASES
                .iter()
                .position(|c| *c == Hop::Proxy { host, filter })?;
            median(results.get(i)?, figure)
        };
        let rps = |s: &Sample| Some(s.wrk.requests_per_sec);
        let (Some(wasmesh), Some(envoy)) = (of(ProxyKind::Wasmesh, rps), of(ProxyKind::Envoy, rps))
        else {
            continue;
        };
        let cpu = |host| of(host, Sample::cpu_us_per_request);
        let cpu_ratio = match (cpu(ProxyKind::Envoy), cpu(ProxyKind::Wasmesh)) {
            (Some(envoy), Some(wasmesh)) if wasmesh > 0.0 => format!("{:.2}×", envoy / wasmesh),
            _ => "n/a".into(),
        };
        let what = if filter {
            "with the network filter"
        } else {
            "plain"
        };
        println!(
            "wasmesh / envoy requests/s, {what}: {:.2}×; envoy's CPU per request / wasmesh's: {cpu_ratio}",
            wasmesh / envoy
        );
    }
}
