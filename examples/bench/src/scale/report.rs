//! The `scale` mode's printed report: setup and core layout, one line per case (median and
//! min–max over rounds) with what limited it, then per worker count wasmesh against Envoy, and
//! each host's scaling efficiency.

use wasmesh_tests::ProxyKind;

use crate::args::ScaleArgs;
use crate::machine::Machine;
use crate::scale::measure::{percent, Case, Results, Sample};
use crate::stats::Summary;
use crate::table::{column, ms, secs};

/// A share of its cores at or above which a part is called the limit.
const SATURATED_PERCENT: f64 = 90.0;

/// Prints everything to stdout (progress went to stderr), ready to paste into a README.
pub fn print(
    args: &ScaleArgs,
    before: &Machine,
    after: &Machine,
    envoy_version: &str,
    cases: &[Case],
    results: &Results,
) {
    let load = &args.load;
    crate::setup::print_machine(before, after);
    println!("envoy:    {envoy_version}, --concurrency N; wasmesh: release build, \"workers\": N (a listening socket per worker, SO_REUSEPORT, in both)");
    println!(
        "load:     wrk -c{}×N -d{} --latency, GET / (an in-process wasmesh-backend echo, multi-threaded); rounds: {} interleaved, fresh proxy per sample, warm-up {}",
        load.connections,
        secs(load.duration),
        load.rounds,
        secs(load.warmup)
    );
    println!(
        "chain:    {} (as in the proxy-cost benchmark)",
        args.chain.label()
    );
    println!("figures:  median (min–max) over rounds; cpu = the proxy's user+system time per request; busy = the share of its cores (proxy), of its threads (wrk, backend) used; limit = what was ≥ {SATURATED_PERCENT:.0} % busy");
    println!("efficiency: requests/s at N ÷ (N × requests/s at 1 worker), same host and chain");
    let mut seen = Vec::new();
    for sample in results.iter().filter_map(|samples| samples.first()) {
        let line = format!(
            "cores:    N = {}: {}",
            sample.layout.proxy.count, sample.layout
        );
        if !seen.contains(&line) {
            println!("{line}");
            seen.push(line);
        }
    }
    println!();
    println!(
        "{:>3} {:<48} {:>24} {:>8} {:>8} {:>20} {:>6} {:>6} {:>7} {:>7} {:>6} {:>10}",
        "N",
        "case",
        "requests/s",
        "p50 ms",
        "p99 ms",
        "cpu us/request",
        "proxy",
        "wrk",
        "backend",
        "limit",
        "errors",
        "efficiency"
    );
    for (case, samples) in cases.iter().zip(results) {
        let workers = if case.target.host.is_some() {
            case.workers.to_string()
        } else {
            "—".into()
        };
        println!(
            "{:>3} {:<48} {:>24} {:>8.2} {:>8.2} {:>20} {:>6} {:>6} {:>7} {:>7} {:>6} {:>10}",
            workers,
            case.label(),
            column(samples, |s| Some(s.wrk.requests_per_sec), 0),
            median(samples, |s| Some(ms(s.wrk.p50))).unwrap_or(f64::NAN),
            median(samples, |s| Some(ms(s.wrk.p99))).unwrap_or(f64::NAN),
            column(samples, Sample::cpu_us_per_request, 1),
            percent(median(samples, Sample::proxy_busy)),
            percent(median(samples, Sample::client_busy)),
            percent(median(samples, Sample::backend_busy)),
            limit(samples),
            samples.iter().map(|s| s.wrk.errors).sum::<u64>(),
            efficiency(cases, results, case)
                .map_or("—".into(), |e| format!("{:.0} %", e * 100.0)),
        );
    }
    println!();
    print_ratios(cases, results);
}

/// Per worker count: wasmesh's requests/s over Envoy's, and their p99s, plain and with the chain.
fn print_ratios(cases: &[Case], results: &Results) {
    let mut counts: Vec<usize> = cases
        .iter()
        .filter(|c| c.target.host.is_some())
        .map(|c| c.workers)
        .collect();
    counts.dedup();
    for n in counts {
        let mut parts = Vec::new();
        for chained in [false, true] {
            let find = |host| {
                let at = cases.iter().position(|c| {
                    c.workers == n
                        && c.target.host == Some(host)
                        && !c.target.baseline
                        && c.target.chain.filters().is_empty() != chained
                })?;
                Some(&results[at])
            };
            let (Some(wasmesh), Some(envoy)) = (find(ProxyKind::Wasmesh), find(ProxyKind::Envoy))
            else {
                continue;
            };
            let rps = |s: &[Sample]| median(s, |s| Some(s.wrk.requests_per_sec));
            let p99 = |s: &[Sample]| median(s, |s| Some(ms(s.wrk.p99)));
            if let (Some(w), Some(e), Some(wp), Some(ep)) =
                (rps(wasmesh), rps(envoy), p99(wasmesh), p99(envoy))
            {
                let what = if chained { "with the chain" } else { "plain" };
                parts.push(format!("{what} {:.2}× (p99 {wp:.2} vs {ep:.2} ms)", w / e));
            }
        }
        println!("N = {n}: wasmesh / envoy requests/s {}", parts.join("; "));
    }
}

/// Requests/s at the case's worker count over its count times the same target's at one worker.
fn efficiency(cases: &[Case], results: &Results, case: &Case) -> Option<f64> {
    case.target.host?;
    let one = cases
        .iter()
        .position(|c| c.workers == 1 && c.target == case.target)?;
    let at = cases
        .iter()
        .position(|c| c.workers == case.workers && c.target == case.target)?;
    let rps = |i: usize| median(&results[i], |s| Some(s.wrk.requests_per_sec));
    Some(rps(at)? / (case.workers as f64 * rps(one)?))
}

/// What was saturated, by the median over the samples of how busy each part was: `proxy`,
/// `wrk`, `backend` (several joined by `+`), `none`, or `shared` when the proxy shared cores
/// with the load.
fn limit(samples: &[Sample]) -> String {
    let Some(first) = samples.first() else {
        return "—".into();
    };
    if first.proxy.is_some() && first.layout.shared() {
        return "shared".into();
    }
    let parts: [(&str, Figure); 3] = [
        ("proxy", Sample::proxy_busy),
        ("wrk", Sample::client_busy),
        ("backend", Sample::backend_busy),
    ];
    let saturated: Vec<&str> = parts
        .iter()
        .filter(|(_, busy)| median(samples, *busy).is_some_and(|b| b >= SATURATED_PERCENT))
        .map(|(name, _)| *name)
        .collect();
    if saturated.is_empty() {
        "none".into()
    } else {
        saturated.join("+")
    }
}

/// One figure of a sample, if it has it.
type Figure = fn(&Sample) -> Option<f64>;

fn median(samples: &[Sample], figure: Figure) -> Option<f64> {
    Summary::of(samples.iter().filter_map(figure)).map(|s| s.median)
}
