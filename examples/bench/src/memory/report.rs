//! The `memory` mode's printed report: what it ran on and with, then one line per scenario ×
//! host (RSS before, at its peak and after; the proxy's open files; what the clients saw).

use crate::args::MemoryArgs;
use crate::machine::Machine;
use crate::memory::clock::secs;
use crate::memory::measure::{mib, Figures, Run, AFTER};
use crate::memory::sampler::{Files, PERIOD};
use crate::memory::upload::mib_text;
use crate::table::thousands;

/// Prints everything to stdout (progress went to stderr), ready to paste into a README.
pub fn print(
    args: &MemoryArgs,
    before: &Machine,
    after: &Machine,
    envoy_version: &str,
    runs: &[Run],
) {
    println!("machine:  {} CPUs, {}", before.cpus, before.cpu_model);
    println!(
        "load avg: {} before, {} after (1/5/15 min)",
        before.load, after.load
    );
    println!("envoy:    {envoy_version}, --concurrency 1; wasmesh: release build, \"workers\": 1");
    println!(
        "setup:    fresh proxy and in-process bulk backend (HTTP/1.1, answers at once) per line; route timeout {} ms in both; buffer limit 1 MiB, stream idle timeout 5 min (both defaults)",
        args.route_timeout_ms
    );
    println!(
        "clients:  upload {} through the abi-test guest's body case; {} HTTP/1.1 clients and {} h2 streams (stream window 0) each asking for {} and not reading for {}; {} fresh 8 KB keys on {} connections (ratelimit 1/s, burst 1)",
        mib_text(args.upload_mib << 20),
        args.clients,
        args.clients,
        mib_text(args.response_bytes),
        secs(args.stall),
        thousands(f64::from(args.keys)),
        args.flood_connections,
    );
    println!(
        "figures:  MiB; before = VmRSS after one probe request; peak = highest VmRSS sampled every {} ms during the scenario (at: since its start); HWM = VmHWM reset before it; after = VmRSS {} after its end; fds = the proxy's most open files over the start, and when it let go of 3/4 of them (if 10 or more)",
        PERIOD.as_millis(),
        secs(AFTER),
    );
    println!();
    println!(
        "{:<26} {:<8} {:>7} {:>17} {:>7} {:>7} {:>20}  client outcome",
        "scenario", "proxy", "before", "peak (at)", "HWM", "after", "fds"
    );
    for run in runs {
        let (scenario, host) = (run.scenario.label(), run.host.name());
        match &run.result {
            Ok(f) => println!(
                "{scenario:<26} {host:<8} {:>7} {:>17} {:>7} {:>7} {:>20}  {}",
                mib(Some(f.before_kib)),
                peak(f),
                mib(f.hwm_kib),
                mib(f.after_kib),
                files(f.files),
                f.outcome
            ),
            Err(e) => println!(
                "{scenario:<26} {host:<8} FAILED: {}",
                e.lines().next().unwrap_or("")
            ),
        }
    }
}

/// `812.4 (2.95 s)`.
fn peak(f: &Figures) -> String {
    match f.peak {
        Some(p) => format!("{} ({})", mib(Some(p.rss_kib)), secs(p.at)),
        None => "—".into(),
    }
}

/// A rise in open files too small to be the scenario's connections (a few client and pooled
/// upstream ones): shown without saying when it was freed.
const FEW_FILES: usize = 10;

/// `+200, freed 3.05 s`, `+200, held`, `+6`.
fn files(files: Option<Files>) -> String {
    match files {
        None => "—".into(),
        Some(Files { peak_extra, .. }) if peak_extra < FEW_FILES => format!("+{peak_extra}"),
        Some(Files {
            peak_extra,
            released_at: Some(at),
        }) => format!("+{peak_extra}, freed {}", secs(at)),
        Some(Files { peak_extra, .. }) => format!("+{peak_extra}, held"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn open_files_column() {
        assert_eq!(files(None), "—");
        let held = Files {
            peak_extra: 200,
            released_at: None,
        };
        assert_eq!(files(Some(held)), "+200, held");
        let freed = Files {
            released_at: Some(Duration::from_millis(3050)),
            ..held
        };
        assert_eq!(files(Some(freed)), "+200, freed 3.05 s");
        let few = Files {
            peak_extra: 6,
            released_at: None,
        };
        assert_eq!(files(Some(few)), "+6");
    }
}
