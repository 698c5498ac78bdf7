//! The printed report: setup, one line per target (median and min–max over rounds), then the
//! ratios the project's aims are stated in (DESIGN.md, "Figures we aim for").

use crate::args::Load;
use crate::cost::measure::{Results, Sample};
use crate::cost::targets::Target;
use crate::machine::Machine;
use crate::setup;
use crate::stats::Summary;
use crate::table::{column, ms};

/// Prints everything to stdout (progress went to stderr), ready to paste into a README.
pub fn print(
    load: &Load,
    before: &Machine,
    after: &Machine,
    envoy_version: &str,
    results: &Results,
) {
    setup::print(
        load,
        before,
        after,
        envoy_version,
        "wasmesh-backend JSON echo, in-process, 1 thread",
    );
    println!("figures:  median (min–max) over rounds; peak RSS = the proxy's VmHWM after its run");
    println!();
    println!(
        "{:<18} {:>26} {:>20} {:>20} {:>20} {:>7}",
        "target", "requests/s", "p50 ms", "p99 ms", "peak RSS MiB", "errors"
    );
    for (target, samples) in results {
        println!(
            "{:<18} {:>26} {:>20} {:>20} {:>20} {:>7}",
            target.label(),
            column(samples, |s| Some(s.wrk.requests_per_sec), 0),
            column(samples, |s| Some(ms(s.wrk.p50)), 2),
            column(samples, |s| Some(ms(s.wrk.p99)), 2),
            column(
                samples,
                |s| s.peak_rss_kib.map(|kib| kib as f64 / 1024.0),
                1
            ),
            samples.iter().map(|s| s.wrk.errors).sum::<u64>(),
        );
    }
    println!();
    print_ratios(results);
}

/// wasmesh against Envoy, the filter's own cost in each host, and latency added over direct.
fn print_ratios(results: &Results) {
    let median = |target: Target, figure: fn(&Sample) -> Option<f64>| {
        results
            .get(&target)
            .and_then(|samples| Summary::of(samples.iter().filter_map(figure)))
            .map(|summary| summary.median)
    };
    let rps = |s: &Sample| Some(s.wrk.requests_per_sec);
    let p50 = |s: &Sample| Some(ms(s.wrk.p50));
    let p99 = |s: &Sample| Some(ms(s.wrk.p99));
    let rss = |s: &Sample| s.peak_rss_kib.map(|kib| kib as f64 / 1024.0);
    let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}×", a / b),
        _ => "n/a".into(),
    };

    for (label, ours, theirs) in [
        ("without filter", Target::Wasmesh, Target::Envoy),
        ("with headers  ", Target::WasmeshFilter, Target::EnvoyFilter),
    ] {
        println!(
            "wasmesh / Envoy {label}: requests/s {}, p50 {}, p99 {}, peak RSS {}",
            ratio(median(ours, rps), median(theirs, rps)),
            ratio(median(ours, p50), median(theirs, p50)),
            ratio(median(ours, p99), median(theirs, p99)),
            ratio(median(ours, rss), median(theirs, rss)),
        );
    }
    for (host, plain, filtered) in [
        ("Envoy  ", Target::Envoy, Target::EnvoyFilter),
        ("wasmesh", Target::Wasmesh, Target::WasmeshFilter),
    ] {
        let added_rss = match (median(filtered, rss), median(plain, rss)) {
            (Some(with), Some(without)) => format!("{:+.1} MiB", with - without),
            _ => "n/a".into(),
        };
        println!(
            "filter cost in {host}: requests/s {} of no-filter, peak RSS {added_rss}",
            ratio(median(filtered, rps), median(plain, rps)),
        );
    }
    let direct_p50 = median(Target::Direct, p50);
    let added: Vec<String> = Target::ALL[1..]
        .iter()
        .map(|&target| match (median(target, p50), direct_p50) {
            (Some(p50), Some(direct)) => {
                format!("{} {:+.0} µs", target.label(), (p50 - direct) * 1e3)
            }
            _ => format!("{} n/a", target.label()),
        })
        .collect();
    println!("added p50 over direct: {}", added.join(", "));
}
