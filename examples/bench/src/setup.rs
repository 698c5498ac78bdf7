//! The report's first lines, the same in every mode: what the figures were measured on and
//! with, since they only mean something next to the machine, its load and the versions.

use crate::args::Load;
use crate::machine::Machine;
use crate::table::secs;
use crate::wrk::THREADS;

/// Prints the machine, its load before and after, the hosts, the load and the rounds;
/// `upstream` says what answers behind the proxies.
pub fn print(load: &Load, before: &Machine, after: &Machine, envoy_version: &str, upstream: &str) {
    print_machine(before, after);
    println!("envoy:    {envoy_version}, --concurrency 1; wasmesh: release build, \"workers\": 1");
    let pace = load.pace_ms.map_or(String::from("back to back"), |ms| {
        format!("paced: each connection waits {ms} ms before every request")
    });
    println!(
        "load:     wrk -t{THREADS} -c{} -d{} --latency, GET / ({upstream}); {pace}",
        load.connections,
        secs(load.duration)
    );
    println!(
        "rounds:   {} interleaved (order rotated each round; fresh proxy per sample), warm-up {} before each measurement",
        load.rounds,
        secs(load.warmup)
    );
}

/// The machine and its load averages before and after the run.
pub fn print_machine(before: &Machine, after: &Machine) {
    println!("machine:  {} CPUs, {}", before.cpus, before.cpu_model);
    println!(
        "load avg: {} before, {} after (1/5/15 min)",
        before.load, after.load
    );
}
