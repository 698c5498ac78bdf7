//! The `lb` mode's printed report: setup, one line per host × policy (median and min–max over
//! rounds), then `peak_ewma` against `round_robin` per host, and the aim checked.

use crate::args::LbArgs;
use crate::lb::backends::{NAMES, SLOW};
use crate::lb::cases::{Case, Policy};
use crate::lb::measure::{Results, Sample};
use crate::machine::Machine;
use crate::setup;
use crate::stats::Summary;
use crate::table::{column, ms};

/// The aim (from the issue): `peak_ewma` sends the slow endpoint at most this share.
const AIM_SLOW_PERCENT: f64 = 10.0;

/// Prints everything to stdout (progress went to stderr), ready to paste into a README.
pub fn print(
    args: &LbArgs,
    before: &Machine,
    after: &Machine,
    envoy_version: &str,
    results: &Results,
) {
    let upstream = format!(
        "lb filter → original_dst → 3 in-process wasmesh-backend echoes, {} answering +{} ms",
        NAMES[SLOW], args.slow_ms
    );
    setup::print(&args.load, before, after, envoy_version, &upstream);
    let tuning = args.peak_ewma().map_or(
        "the filter's defaults (decay_ms 10000, default_rtt_ms 30)".into(),
        |t| t.to_string(),
    );
    println!("peak_ewma: {tuning}");
    println!(
        "figures:  median (min–max) over rounds; slow share = {}'s part of the requests the backends counted during the measurement",
        NAMES[SLOW]
    );
    println!();
    println!(
        "{:<20} {:>24} {:>20} {:>22} {:>20} {:>17} {:>7}",
        "case", "requests/s", "p50 ms", "p99 ms", "slow share %", "b1/b2/b3 %", "errors"
    );
    for (case, samples) in Case::ALL.iter().zip(results) {
        println!(
            "{:<20} {:>24} {:>20} {:>22} {:>20} {:>17} {:>7}",
            case.label(),
            column(samples, |s| Some(s.wrk.requests_per_sec), 0),
            column(samples, |s| Some(ms(s.wrk.p50)), 2),
            column(samples, |s| Some(ms(s.wrk.p99)), 2),
            column(samples, |s| s.served.slow_percent(), 1),
            shares(samples),
            samples.iter().map(|s| s.wrk.errors).sum::<u64>(),
        );
    }
    println!();
    for host in [Case::ALL[0].host, Case::ALL[2].host] {
        let of = |policy| {
            let i = Case::ALL
                .iter()
                .position(|c| c.host == host && c.policy == policy)?;
            results.get(i)
        };
        let (Some(rr), Some(ewma)) = (of(Policy::RoundRobin), of(Policy::PeakEwma)) else {
            continue;
        };
        let slow = median(ewma, |s| s.served.slow_percent());
        let verdict = match slow {
            _ if args.slow_ms == 0 => "n/a: no slow backend",
            Some(share) if share <= AIM_SLOW_PERCENT => "met",
            Some(_) => "MISSED",
            None => "n/a",
        };
        println!(
            "{:<7} peak_ewma / round_robin: requests/s {}, p50 {}, p99 {}; slow share {} vs {} (aim ≤ {AIM_SLOW_PERCENT:.0} %: {verdict})",
            host.name(),
            ratio(median(ewma, rps), median(rr, rps)),
            ratio(median(ewma, p50), median(rr, p50)),
            ratio(median(ewma, p99), median(rr, p99)),
            percent(slow),
            percent(median(rr, |s| s.served.slow_percent())),
        );
    }
}

fn rps(s: &Sample) -> Option<f64> {
    Some(s.wrk.requests_per_sec)
}

fn p50(s: &Sample) -> Option<f64> {
    Some(ms(s.wrk.p50))
}

fn p99(s: &Sample) -> Option<f64> {
    Some(ms(s.wrk.p99))
}

/// The median of one figure over a case's samples.
fn median(samples: &[Sample], figure: impl Fn(&Sample) -> Option<f64>) -> Option<f64> {
    Summary::of(samples.iter().filter_map(figure)).map(|s| s.median)
}

/// Each backend's median share, `33/33/33`: shows where the slow one's requests went.
fn shares(samples: &[Sample]) -> String {
    let parts: Vec<String> = (0..NAMES.len())
        .map(|b| {
            let share = median(samples, |s| {
                let total = s.served.total();
                (total > 0).then(|| s.served.0[b] as f64 * 100.0 / total as f64)
            });
            share.map_or("—".into(), |v| format!("{v:.0}"))
        })
        .collect();
    parts.join("/")
}

fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}×", a / b),
        _ => "n/a".into(),
    }
}

fn percent(value: Option<f64>) -> String {
    value.map_or("n/a".into(), |v| format!("{v:.1} %"))
}
