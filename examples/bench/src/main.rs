//! `wasmesh-bench`: direct, Envoy and wasmesh (each without and with the `headers` filter) under
//! the same `wrk` load, in interleaved rounds of one run, so the figures are comparable ratios.
//!
//! Thin on purpose: parse → check tools → build → measure → report.

mod args;
mod artifacts;
mod launch;
mod machine;
mod measure;
mod process;
mod report;
mod stats;
mod targets;
mod wrk;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = args::Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wasmesh-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &args::Args) -> anyhow::Result<()> {
    // Checked first: without wrk there is nothing to measure, so do not build for minutes.
    let wrk = wrk::find()?;
    process::stop_children_on_signal()?;
    let machine_before = machine::Machine::read();
    let artifacts = artifacts::Artifacts::prepare()?;
    let results = measure::run(args, &wrk, &artifacts)?;
    let machine_after = machine::Machine::read();
    report::print(
        args,
        &machine_before,
        &machine_after,
        &artifacts.envoy_version,
        &results,
    );
    Ok(())
}
