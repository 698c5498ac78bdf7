//! `wasmesh-bench`: Envoy against wasmesh under the same `wrk` load, in interleaved rounds of one
//! run, so the figures are comparable ratios. Without a subcommand: what a proxy and a filter
//! chain cost ([`cost`]); `lb`: how the `lb` filter's policies cope with a slow endpoint ([`lb`]);
//! `memory`: what hostile clients make each proxy hold, with clients of its own ([`memory`]);
//! `tls`: each host terminating TLS, kept-alive and a handshake per request ([`tls`]); `tcp`:
//! each host as a TCP proxy, without and with a network filter ([`tcp`]); `scale`: each host at
//! 1, 2, 4, … workers on cores of their own ([`scale`]).
//!
//! Thin on purpose: parse → check tools → build → measure → report.

mod affinity;
mod args;
mod artifacts;
mod cost;
mod cpu;
mod launch;
mod lb;
mod machine;
mod memory;
mod module_rss;
mod pinned;
mod probe;
mod process;
mod relay;
mod rounds;
mod scale;
mod setup;
mod snapshot;
mod stats;
mod table;
mod tcp;
mod tls;
mod wrk;

use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Mode};
use crate::machine::Machine;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wasmesh-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli) -> anyhow::Result<()> {
    // Checked first: without wrk there is nothing to measure, so do not build for minutes. The
    // memory mode drives its own clients.
    let wrk = match cli.mode {
        Some(Mode::Memory(_)) => None,
        _ => Some(wrk::find()?),
    };
    process::stop_children_on_signal()?;
    let before = Machine::read();
    let baseline = match &cli.mode {
        Some(Mode::Scale(args)) => args.baseline.as_deref(),
        _ => cli.baseline.as_deref(),
    };
    let artifacts = artifacts::Artifacts::prepare(baseline)?;
    let version = &artifacts.envoy_version;
    match (&cli.mode, wrk.as_deref()) {
        (None, Some(wrk)) => {
            let targets = cost::targets::all(&cli.chain, cli.per_filter, cli.baseline.is_some());
            let results = cost::measure::run(&targets, &cli.load, wrk, &artifacts)?;
            let after = Machine::read();
            let chain = &cli.chain;
            cost::report::print(
                chain, &cli.load, &before, &after, version, &targets, &results,
            );
        }
        (Some(Mode::Lb(args)), Some(wrk)) => {
            let results = lb::measure::run(args, wrk, &artifacts)?;
            lb::report::print(args, &before, &Machine::read(), version, &results);
        }
        (Some(Mode::Memory(args)), _) => {
            let runs = memory::measure::run(args, &artifacts)?;
            memory::report::print(args, &before, &Machine::read(), version, &runs);
            let failed = runs.iter().filter(|run| run.result.is_err()).count();
            if failed > 0 {
                anyhow::bail!("{failed} of {} runs failed (see above)", runs.len());
            }
        }
        (Some(Mode::Tls(args)), Some(wrk)) => {
            let results = tls::measure::run(args, wrk, &artifacts)?;
            tls::report::print(args, &before, &Machine::read(), version, &results);
        }
        (Some(Mode::Tcp(args)), Some(wrk)) => {
            let results = tcp::measure::run(args, wrk, &artifacts)?;
            tcp::report::print(args, &before, &Machine::read(), version, &results);
        }
        (Some(Mode::Scale(args)), Some(wrk)) => {
            let workers = scale::measure::worker_counts(args);
            let cases = scale::measure::cases(&workers, &args.chain, args.baseline.is_some());
            let results = scale::measure::run(args, &cases, wrk, &artifacts)?;
            scale::report::print(args, &before, &Machine::read(), version, &cases, &results);
        }
        (_, None) => unreachable!("wrk is looked for in every mode but memory"),
    }
    Ok(())
}
