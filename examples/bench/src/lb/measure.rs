//! The `lb` mode's rounds: every case once per round, interleaved ([`rounds`]), a fresh proxy
//! per sample, so each sample's balancer starts from nothing and learns during the warm-up.

use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, bail};

use crate::args::LbArgs;
use crate::artifacts::Artifacts;
use crate::cost::chain::Filter;
use crate::launch::RunningProxy;
use crate::lb::backends::{Backends, Counts, NAMES};
use crate::lb::cases::{Case, ECHO_HEADER};
use crate::probe;
use crate::rounds;
use crate::wrk::{self, WrkResult};

/// One measurement of one case.
#[derive(Debug, Clone)]
pub struct Sample {
    /// What wrk measured.
    pub wrk: WrkResult,
    /// Requests each backend received during the measurement (not the warm-up).
    pub served: Counts,
}

/// Every case's samples in round order, indexed like [`Case::ALL`].
pub type Results = Vec<Vec<Sample>>;

/// Starts the backends (one slow by `args.slow_ms`), then runs `args.load.rounds` rounds.
pub fn run(args: &LbArgs, wrk: &Path, artifacts: &Artifacts) -> anyhow::Result<Results> {
    let load = &args.load;
    let backends = Backends::start(Duration::from_millis(args.slow_ms));
    for (name, addr) in NAMES.iter().zip(backends.addrs()) {
        probe::echo(name, &probe::url_of(addr))?;
    }
    let mut results: Results = vec![Vec::new(); Case::ALL.len()];
    for round in 0..load.rounds as usize {
        for i in rounds::order(round, Case::ALL.len()) {
            let case = Case::ALL[i];
            let sample = measure(case, &backends, args, wrk, artifacts)?;
            let share = match sample.served.slow_percent() {
                Some(percent) => format!("  slow {percent:>5.1} %"),
                None => "  slow n/a".into(),
            };
            let extra = format!("{share}  served {:?}", sample.served.0);
            rounds::progress(round, load.rounds, &case.label(), &sample.wrk, &extra);
            results[i].push(sample);
        }
    }
    Ok(results)
}

/// Starts the case's proxy, checks one answer, warms up (the balancer learns), then measures
/// with the backends' counters read right before and right after.
fn measure(
    case: Case,
    backends: &Backends,
    args: &LbArgs,
    wrk: &Path,
    artifacts: &Artifacts,
) -> anyhow::Result<Sample> {
    let tuning = args.peak_ewma();
    let config = case.mesh_config(
        artifacts.module(Filter::Lb),
        &backends.addrs(),
        tuning.as_ref(),
    );
    let proxy = RunningProxy::start(case.host, &config, artifacts)?;
    let url = probe::url_of(proxy.listener);
    check_pick(case, &url, backends)?;
    let (before, result) = wrk::warm_up_then_measure(wrk, &url, &args.load, || backends.counts())?;
    let served = backends.counts().since(before);
    proxy.check_alive()?;
    Ok(Sample {
        wrk: result,
        served,
    })
}

/// One request before the load: a 200 from one of our backends, and the filter's echo header
/// naming that very backend, so the table never measures a chain where `lb` did not decide.
fn check_pick(case: Case, url: &str, backends: &Backends) -> anyhow::Result<()> {
    let label = case.label();
    let (response, echo) = probe::echo(&label, url)?;
    let name = echo["backend"]
        .as_str()
        .ok_or_else(|| anyhow!("{label}: the echo names no backend: {echo}"))?;
    let addr = backends
        .addr_of(name)
        .ok_or_else(|| anyhow!("{label}: answered by {name:?}, not one of {NAMES:?}"))?;
    let picked = response.header(ECHO_HEADER);
    if picked != Some(addr.to_string().as_str()) {
        bail!("{label}: {name} ({addr}) answered, but the filter says it picked {picked:?}");
    }
    Ok(())
}
