//! What each step of the chain adds, per host: time per request, memory per VM, cold start.
//!
//! Time per request comes from 1 / requests-per-second, not from latency: wrk keeps
//! `connections` requests in flight against a saturated single worker, so the worker's time per
//! request is 1 / throughput, while the mean latency is `connections` times that (Little's law)
//! and mostly queueing. The difference is taken within each round (the samples of a round ran
//! minutes apart at most, under the same outside load), then summarized over rounds.
//!
//! Under a paced load (`--pace-ms`) requests/s is the pacing's, not the proxy's, so the step's
//! time is the p50 it adds instead (paired the same way): below saturation there is no queue,
//! and the latency difference is the filter's own time on the request's path.

use crate::cost::measure::{Results, Sample};
use crate::cost::report::{
    hop_cpu_micros, median, peak_mib, peak_over_module_mib, ratio, ready_mib, ready_ms,
    ready_over_module_mib, rps,
};
use crate::cost::targets::{Target, HOSTS};
use crate::stats::Summary;
use crate::table::column;

/// Prints one line per step per host: the chain's steps in order (with `--per-filter`), or
/// the whole chain as one step. `paced`: the time column is the added p50.
pub fn print(targets: &[Target], results: &Results, paced: bool) {
    if paced {
        println!(
            "per step: µs/request = p50 with − p50 without (paced load: no queue), paired within each round, median (min–max)"
        );
    } else {
        println!(
            "per step: µs/request = 1e6/(requests/s with) − 1e6/(requests/s without), paired within each round, median (min–max)"
        );
    }
    println!(
        "          MiB/VM = (RSS with − RSS without) / (1 worker × filters added), from medians; at ready = VmRSS right after /ready 200, before any request; peak = VmHWM after the run"
    );
    println!(
        "          over module = the same without the compiled modules' shared mappings (wasmesh: Rss of the .cwasm files' read-only and code mappings, from smaps; Envoy: n/a, V8's code is anonymous memory)"
    );
    println!(
        "          CPU µs/req = the proxy's CPU µs/req with − without, paired within each round, median (min–max)"
    );
    println!(
        "          ready ms = cold start of the proxy with the step's filters (spawn → /ready 200), median (min–max)"
    );
    println!();
    println!(
        "{:<8} {:<26} {:>26} {:>8} {:>18} {:>13} {:>13} {:>12} {:>12} {:>16}",
        "host",
        "adds",
        "µs/request",
        "req/s",
        "CPU µs/req",
        "MiB/VM ready",
        "over module",
        "MiB/VM peak",
        "over module",
        "ready ms"
    );
    // Steps within one binary: this tree's, then the `--baseline`'s.
    for (host, baseline) in HOSTS.into_iter().flat_map(|h| [(h, false), (h, true)]) {
        let lines: Vec<(&Target, &Vec<Sample>)> = targets
            .iter()
            .zip(results)
            .filter(|(t, _)| t.host == Some(host) && t.baseline == baseline)
            .collect();
        for pair in lines.windows(2) {
            let ((before, without), (after, with)) = (pair[0], pair[1]);
            let added: Vec<_> = after
                .chain
                .filters()
                .iter()
                .filter(|f| !before.chain.filters().contains(f))
                .collect();
            let names: Vec<&str> = added.iter().map(|f| f.spec().name).collect();
            let per_vm = |figure: fn(&Sample) -> Option<f64>| match (
                median(with, figure),
                median(without, figure),
            ) {
                (Some(a), Some(b)) => format!("{:+.2}", (a - b) / added.len() as f64),
                _ => "n/a".into(),
            };
            let name = if baseline {
                format!("{} (baseline)", host.name())
            } else {
                host.name().to_string()
            };
            println!(
                "{:<8} {:<26} {:>26} {:>8} {:>18} {:>13} {:>13} {:>12} {:>12} {:>16}",
                name,
                format!("+ {}", names.join(" + ")),
                if paced {
                    added_p50(without, with)
                } else {
                    micros_per_request(without, with)
                },
                ratio(median(with, rps), median(without, rps)),
                added_cpu(without, with),
                per_vm(ready_mib),
                per_vm(ready_over_module_mib),
                per_vm(peak_mib),
                per_vm(peak_over_module_mib),
                column(with, ready_ms, 0),
            );
        }
    }
}

/// `1e6/rps(with) − 1e6/rps(without)` per round, as `median (min–max)` µs.
fn micros_per_request(without: &[Sample], with: &[Sample]) -> String {
    paired(without, with, |a, b| {
        let (a, b) = (rps(a)?, rps(b)?);
        (a > 0.0 && b > 0.0).then(|| 1e6 / b - 1e6 / a)
    })
}

/// `p50(with) − p50(without)` per round, as `median (min–max)` µs.
fn added_p50(without: &[Sample], with: &[Sample]) -> String {
    paired(without, with, |a, b| {
        Some((b.wrk.p50.as_secs_f64() - a.wrk.p50.as_secs_f64()) * 1e6)
    })
}

/// The proxy's CPU µs/request with − without per round, as `median (min–max)`, whole µs (ticks
/// are 10 ms: a decimal would be noise).
fn added_cpu(without: &[Sample], with: &[Sample]) -> String {
    paired_to(without, with, 0, |a, b| {
        Some(hop_cpu_micros(b)? - hop_cpu_micros(a)?)
    })
}

/// `delta(without, with)` of each round, as `median (min–max)` with one decimal.
fn paired(
    without: &[Sample],
    with: &[Sample],
    delta: impl Fn(&Sample, &Sample) -> Option<f64>,
) -> String {
    paired_to(without, with, 1, delta)
}

/// `delta(without, with)` of each round, as `median (min–max)` with `decimals`.
fn paired_to(
    without: &[Sample],
    with: &[Sample],
    decimals: usize,
    delta: impl Fn(&Sample, &Sample) -> Option<f64>,
) -> String {
    let deltas = without.iter().zip(with).filter_map(|(a, b)| delta(a, b));
    let Some(Summary { median, min, max }) = Summary::of(deltas) else {
        return "n/a".into();
    };
    let d = decimals;
    format!("{median:+.d$} ({min:+.d$}…{max:+.d$})")
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::cpu::Spent;
    use crate::wrk::WrkResult;

    fn at(requests_per_sec: f64) -> Sample {
        at_p50(requests_per_sec, 0)
    }

    fn at_p50(requests_per_sec: f64, p50_micros: u64) -> Sample {
        Sample {
            wrk: WrkResult {
                requests_per_sec,
                p50: Duration::from_micros(p50_micros),
                p99: Duration::ZERO,
                requests: 0,
                errors: 0,
            },
            peak_rss_kib: None,
            ready_rss_kib: None,
            ready_after: None,
            hop_cpu: None,
            backend_cpu: None,
            ready_module_kib: None,
            peak_module_kib: None,
        }
    }

    #[test]
    fn pairs_rounds_and_converts_throughput_to_time() {
        // 10 000 → 8 000 req/s is 100 µs → 125 µs per request: +25 µs.
        let without = [at(10_000.0), at(5_000.0), at(10_000.0)];
        let with = [at(8_000.0), at(4_000.0), at(10_000.0)];
        assert_eq!(micros_per_request(&without, &with), "+25.0 (+0.0…+50.0)");
    }

    #[test]
    fn cpu_steps_pair_whole_microseconds() {
        let with_cpu = |ticks, requests| {
            let mut sample = at(0.0);
            sample.hop_cpu = Some(Spent { ticks });
            sample.wrk.requests = requests;
            sample
        };
        // At 100 ticks/s: 30 ticks over 3 000 requests = 100 µs; 45 → 150 µs; 20 → 66.7 µs.
        let without = [with_cpu(30, 3_000), with_cpu(20, 3_000)];
        let with = [with_cpu(45, 3_000), with_cpu(30, 3_000)];
        if crate::cpu::ticks_per_sec() == 100 {
            assert_eq!(added_cpu(&without, &with), "+42 (+33…+50)");
        }
        assert_eq!(added_cpu(&without, &[at(1.0), at(1.0)]), "n/a");
    }

    #[test]
    fn paced_steps_pair_the_p50() {
        let without = [at_p50(800.0, 200), at_p50(800.0, 250)];
        let with = [at_p50(800.0, 260), at_p50(800.0, 270)];
        assert_eq!(added_p50(&without, &with), "+40.0 (+20.0…+60.0)");
    }
}
