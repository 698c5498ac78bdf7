//! The printed report: setup, one line per target (median and min–max over rounds), the ratios
//! the project's aims are stated in (wasmesh against Envoy and against going direct), then what each filter
//! adds ([`steps`](crate::cost::steps)).

use crate::args::Load;
use crate::cost::chain::Chain;
use crate::cost::measure::{Results, Sample};
use crate::cost::steps;
use crate::cost::targets::{Target, HOSTS};
use crate::cpu;
use crate::machine::Machine;
use crate::setup;
use crate::stats::Summary;
use crate::table::{column, ms};

/// Prints everything to stdout (progress went to stderr), ready to paste into a README.
pub fn print(
    chain: &Chain,
    load: &Load,
    before: &Machine,
    after: &Machine,
    envoy_version: &str,
    targets: &[Target],
    results: &Results,
) {
    setup::print(
        load,
        before,
        after,
        envoy_version,
        "wasmesh-backend JSON echo, in-process, 1 thread",
    );
    println!("chain:    {chain} (request order; with lb: original_dst cluster fed by lb)");
    println!(
        "figures:  median (min–max) over rounds; peak RSS = the proxy's VmHWM after its run; \
         ready = process spawn → first /ready 200 (polled every 5 ms)"
    );
    print_cpu_legend(results);
    println!();
    println!(
        "{:<34} {:>24} {:>20} {:>20} {:>18} {:>16} {:>6} {:>16} {:>16}",
        "target",
        "requests/s",
        "p50 ms",
        "p99 ms",
        "peak RSS MiB",
        "ready ms",
        "errors",
        "CPU µs/req",
        "backend µs/req"
    );
    for (target, samples) in targets.iter().zip(results) {
        println!(
            "{:<34} {:>24} {:>20} {:>20} {:>18} {:>16} {:>6} {:>16} {:>16}",
            target.label(),
            column(samples, rps, 0),
            column(samples, |s| Some(ms(s.wrk.p50)), 2),
            column(samples, |s| Some(ms(s.wrk.p99)), 2),
            column(samples, peak_mib, 1),
            column(samples, ready_ms, 0),
            samples.iter().map(|s| s.wrk.errors).sum::<u64>(),
            column(samples, hop_cpu_micros, 0),
            column(samples, backend_cpu_micros, 0),
        );
    }
    println!();
    print_ratios(chain, targets, results);
    print_added_latency(chain, targets, results, load.pace_ms.is_some());
    println!();
    steps::print(targets, results, load.pace_ms.is_some());
}

/// What the two CPU columns are, and how coarse: the fewest ticks any sample counted.
fn print_cpu_legend(results: &Results) {
    let fewest = results
        .iter()
        .flatten()
        .flat_map(|s| [s.hop_cpu, s.backend_cpu])
        .flatten()
        .map(|spent| spent.ticks)
        .min();
    let tick_ms = 1e3 / cpu::ticks_per_sec() as f64;
    let resolution = fewest.map_or(String::new(), |ticks| {
        let error = 100.0 / ticks.max(1) as f64;
        format!(
            "; 1 tick = {tick_ms:.0} ms, the fewest in a sample {ticks} (±1 tick = ±{error:.0} %: \
             a longer --duration narrows it)"
        )
    });
    println!(
        "cpu:      CPU µs/req = the hop's utime+stime during the measured run / requests wrk completed \
         (proxy: its process; tcp relay: its thread); backend µs/req = the same for the backend's thread, \
         whatever is in front of it{resolution}"
    );
}

/// CPU µs per request of the hop (proxy process, relay thread), during the measured run.
pub fn hop_cpu_micros(sample: &Sample) -> Option<f64> {
    sample.hop_cpu?.micros_per_request(sample.wrk.requests)
}

/// CPU µs per request of the backend's thread, during the measured run.
pub fn backend_cpu_micros(sample: &Sample) -> Option<f64> {
    sample.backend_cpu?.micros_per_request(sample.wrk.requests)
}

/// Requests/s of a sample.
pub fn rps(sample: &Sample) -> Option<f64> {
    Some(sample.wrk.requests_per_sec)
}

/// Peak RSS in MiB.
pub fn peak_mib(sample: &Sample) -> Option<f64> {
    sample.peak_rss_kib.map(|kib| kib as f64 / 1024.0)
}

/// RSS right after `/ready`, in MiB.
pub fn ready_mib(sample: &Sample) -> Option<f64> {
    sample.ready_rss_kib.map(|kib| kib as f64 / 1024.0)
}

/// RSS right after `/ready` without the compiled modules' shared mappings, in MiB (wasmesh).
pub fn ready_over_module_mib(sample: &Sample) -> Option<f64> {
    Some(
        sample
            .ready_rss_kib?
            .checked_sub(sample.ready_module_kib?)? as f64
            / 1024.0,
    )
}

/// Peak RSS without the compiled modules' shared mappings (read after the run), in MiB.
pub fn peak_over_module_mib(sample: &Sample) -> Option<f64> {
    Some(sample.peak_rss_kib?.checked_sub(sample.peak_module_kib?)? as f64 / 1024.0)
}

/// Cold start to ready, in ms.
pub fn ready_ms(sample: &Sample) -> Option<f64> {
    sample.ready_after.map(|d| d.as_secs_f64() * 1e3)
}

/// The median of `figure` over `samples`.
pub fn median(samples: &[Sample], figure: impl Fn(&Sample) -> Option<f64>) -> Option<f64> {
    Summary::of(samples.iter().filter_map(figure)).map(|s| s.median)
}

/// `a / b` as `1.23×`.
pub fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}×", a / b),
        _ => "n/a".into(),
    }
}

/// wasmesh against Envoy, the chain's cost in each host, and latency added over direct.
fn print_ratios(chain: &Chain, targets: &[Target], results: &Results) {
    let samples_of = |host, n: usize| {
        targets
            .iter()
            .position(|t| t.host == Some(host) && !t.baseline && t.chain.filters().len() == n)
            .map(|i| results[i].as_slice())
            .unwrap_or_default()
    };
    let [envoy, wasmesh] = HOSTS;
    let full = chain.filters().len();
    let p50 = |s: &Sample| Some(ms(s.wrk.p50));
    let p99 = |s: &Sample| Some(ms(s.wrk.p99));
    for (label, n) in [
        ("without filters".to_string(), 0),
        (format!("+ {chain}"), full),
    ] {
        let (ours, theirs) = (samples_of(wasmesh, n), samples_of(envoy, n));
        println!(
            "wasmesh / Envoy {label}: requests/s {}, p50 {}, p99 {}, peak RSS {}",
            ratio(median(ours, rps), median(theirs, rps)),
            ratio(median(ours, p50), median(theirs, p50)),
            ratio(median(ours, p99), median(theirs, p99)),
            ratio(median(ours, peak_mib), median(theirs, peak_mib)),
        );
    }
    for host in HOSTS {
        let (plain, filtered) = (samples_of(host, 0), samples_of(host, full));
        let added_rss = match (median(filtered, peak_mib), median(plain, peak_mib)) {
            (Some(with), Some(without)) => format!("{:+.1} MiB", with - without),
            _ => "n/a".into(),
        };
        println!(
            "chain cost in {:<7}: requests/s {} of no-filter, peak RSS {added_rss}",
            host.name(),
            ratio(median(filtered, rps), median(plain, rps)),
        );
    }
}

/// The aim for the latency wasmesh + the chain adds to going direct, at p50.
const ADDED_P50_AIM_MICROS: f64 = 150.0;

/// Per target, the p50 and p99 it adds over going direct (medians), and the aim for wasmesh +
/// the chain (shown under a paced load only). Meant for a paced load (`--pace-ms`, few connections): saturated, the figures are
/// mostly queueing (64 requests in flight), not the proxy's time on a request's path.
fn print_added_latency(chain: &Chain, targets: &[Target], results: &Results, paced: bool) {
    let p50 = |s: &Sample| Some(ms(s.wrk.p50) * 1e3);
    let p99 = |s: &Sample| Some(ms(s.wrk.p99) * 1e3);
    let (direct_p50, direct_p99) = (median(&results[0], p50), median(&results[0], p99));
    println!("added over direct (µs, medians): p50 / p99");
    for (target, samples) in targets.iter().zip(results).skip(1) {
        let added = |figure: fn(&Sample) -> Option<f64>, direct: Option<f64>| match (
            median(samples, figure),
            direct,
        ) {
            (Some(with), Some(direct)) => Some(with - direct),
            _ => None,
        };
        let show = |v: Option<f64>| v.map_or("n/a".into(), |v| format!("{v:+.0}"));
        let added_p50 = added(p50, direct_p50);
        let aim =
            if paced && target.host == Some(HOSTS[1]) && !target.baseline && target.chain == *chain
            {
                match added_p50 {
                    Some(v) if v <= ADDED_P50_AIM_MICROS => "  (aim ≤ 150 µs: met)",
                    Some(_) => "  (aim ≤ 150 µs: missed)",
                    None => "",
                }
            } else {
                ""
            };
        println!(
            "  {:<34} {:>6} / {:>6}{aim}",
            target.label(),
            show(added_p50),
            show(added(p99, direct_p99)),
        );
    }
}
