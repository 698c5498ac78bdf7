//! The proxy-cost benchmark's rounds: every target measured once per round, in interleaved
//! rounds ([`rounds`]).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;

use anyhow::bail;
use wasmesh_backend::Backend;

use crate::args::Load;
use crate::artifacts::Artifacts;
use crate::cost::targets::{Target, REQUEST_HEADER, RESPONSE_HEADER};
use crate::launch::RunningProxy;
use crate::machine::peak_rss_kib;
use crate::probe::{self, url_of};
use crate::rounds;
use crate::wrk::{self, WrkResult};

/// One measurement of one target.
#[derive(Debug, Clone)]
pub struct Sample {
    /// What wrk measured.
    pub wrk: WrkResult,
    /// The proxy's peak RSS (`VmHWM`) after the run; `None` when going direct.
    pub peak_rss_kib: Option<u64>,
}

/// Every sample, by target, in round order.
pub type Results = BTreeMap<Target, Vec<Sample>>;

/// Runs `load.rounds` rounds over [`Target::ALL`], interleaved ([`rounds::order`]).
pub fn run(load: &Load, wrk: &Path, artifacts: &Artifacts) -> anyhow::Result<Results> {
    // In-process, on its own current-thread runtime: a fast JSON echo (tens of thousands of
    // requests/s on one core), the same upstream the end-to-end tests use.
    let backend = Backend::start("bench");
    check_response(Target::Direct, &url_of(backend.addr))?;

    let mut results = Results::new();
    for round in 0..load.rounds as usize {
        for i in rounds::order(round, Target::ALL.len()) {
            let target = Target::ALL[i];
            let sample = measure(target, backend.addr, load, wrk, artifacts)?;
            let rss = sample
                .peak_rss_kib
                .map(|kib| format!("  peak RSS {:.1} MiB", kib as f64 / 1024.0))
                .unwrap_or_default();
            rounds::progress(round, load.rounds, target.label(), &sample.wrk, &rss);
            results.entry(target).or_default().push(sample);
        }
    }
    Ok(results)
}

/// Starts the target's proxy (fresh for every sample, so peak RSS is this run's), checks one
/// response, warms up, measures, then reads the peak RSS before the proxy is stopped.
fn measure(
    target: Target,
    backend: SocketAddr,
    load: &Load,
    wrk: &Path,
    artifacts: &Artifacts,
) -> anyhow::Result<Sample> {
    let Some(kind) = target.host() else {
        let (_, result) = wrk::warm_up_then_measure(wrk, &url_of(backend), load, || ())?;
        return Ok(Sample {
            wrk: result,
            peak_rss_kib: None,
        });
    };
    let config = target.mesh_config(backend, &artifacts.headers_wasm);
    let proxy = RunningProxy::start(kind, &config, artifacts)?;
    let url = url_of(proxy.listener);
    check_response(target, &url)?;
    let (_, result) = wrk::warm_up_then_measure(wrk, &url, load, || ())?;
    proxy.check_alive()?;
    let peak_rss_kib = peak_rss_kib(proxy.pid());
    Ok(Sample {
        wrk: result,
        peak_rss_kib,
    })
}

/// One request before the load: 200 from the backend, and the filter's two headers exactly when
/// the target has the filter — so a table line never measures a broken or filterless chain.
fn check_response(target: Target, url: &str) -> anyhow::Result<()> {
    let (response, echo) = probe::echo(target.label(), url)?;
    let request_header = echo["headers"][REQUEST_HEADER.0].as_str();
    let response_header = response.header(RESPONSE_HEADER.0);
    let expected = target
        .has_filter()
        .then_some((REQUEST_HEADER.1, RESPONSE_HEADER.1));
    let seen = match (request_header, response_header) {
        (Some(request), Some(response)) => Some((request, response)),
        (None, None) => None,
        partial => bail!("{}: the filter ran half-way: {partial:?}", target.label()),
    };
    if seen != expected {
        bail!(
            "{}: expected the filter's headers {expected:?}, saw {seen:?}",
            target.label()
        );
    }
    Ok(())
}
