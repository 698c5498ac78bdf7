//! The printed report: setup, one line per target (median and min–max over rounds), then the
//! ratios the project's aims are stated in (DESIGN.md, "Figures we aim for").

use std::time::Duration;

use crate::args::Args;
use crate::machine::Machine;
use crate::measure::{ms, Results, Sample};
use crate::stats::Summary;
use crate::targets::Target;
use crate::wrk::THREADS;

/// Prints everything to stdout (progress went to stderr), ready to paste into a README.
pub fn print(
    args: &Args,
    before: &Machine,
    after: &Machine,
    envoy_version: &str,
    results: &Results,
) {
    println!("machine:  {} CPUs, {}", before.cpus, before.cpu_model);
    println!(
        "load avg: {} before, {} after (1/5/15 min)",
        before.load, after.load
    );
    println!("envoy:    {envoy_version}, --concurrency 1; wasmesh: release build, \"workers\": 1");
    println!(
        "load:     wrk -t{THREADS} -c{} -d{} --latency, GET / (wasmesh-backend JSON echo, in-process, 1 thread)",
        args.connections,
        secs(args.duration)
    );
    println!(
        "rounds:   {} interleaved (order rotated each round; fresh proxy per sample), warm-up {} before each measurement",
        args.rounds,
        secs(args.warmup)
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

/// `median (min–max)` of one figure over a target's samples; `—` when it has none.
fn column(samples: &[Sample], figure: impl Fn(&Sample) -> Option<f64>, decimals: usize) -> String {
    match Summary::of(samples.iter().filter_map(figure)) {
        Some(s) if decimals == 0 => format!(
            "{} ({}–{})",
            thousands(s.median),
            thousands(s.min),
            thousands(s.max)
        ),
        Some(s) => format!(
            "{:.d$} ({:.d$}–{:.d$})",
            s.median,
            s.min,
            s.max,
            d = decimals
        ),
        None => "—".into(),
    }
}

/// `23600.4` → `23 600`: the grouping DESIGN.md writes figures in.
fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(' ');
        }
        out.push(digit);
    }
    out
}

/// `10s`, as wrk's `-d` has it.
fn secs(duration: Duration) -> String {
    format!("{}s", duration.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_thousands() {
        assert_eq!(thousands(0.0), "0");
        assert_eq!(thousands(999.4), "999");
        assert_eq!(thousands(23_600.4), "23 600");
        assert_eq!(thousands(1_359_000.0), "1 359 000");
    }
}
