//! The proxy-cost benchmark's rounds: every target measured once per round, in interleaved
//! rounds ([`rounds`]), a fresh proxy per sample.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context};
use wasmesh_backend::Backend;
use wasmesh_tests::ProxyKind;

use crate::args::Load;
use crate::artifacts::Artifacts;
use crate::cost::chain::{Filter, Spec, Upstreams};
use crate::cost::marks::{Evidence, FAILING_PATH};
use crate::cost::targets::Target;
use crate::launch::RunningProxy;
use crate::machine::{peak_rss_kib, rss_kib};
use crate::probe::{self, url_of};
use crate::relay::Relay;
use crate::rounds;
use crate::wrk::{self, WrkResult};

/// One measurement of one target.
#[derive(Debug, Clone)]
pub struct Sample {
    /// What wrk measured.
    pub wrk: WrkResult,
    /// The proxy's peak RSS (`VmHWM`) after the run; `None` when going direct.
    pub peak_rss_kib: Option<u64>,
    /// The proxy's RSS (`VmRSS`) right after `/ready`, before any request.
    pub ready_rss_kib: Option<u64>,
    /// Process spawn → `/ready` 200.
    pub ready_after: Option<Duration>,
}

/// Every target's samples in round order, indexed like the targets.
pub type Results = Vec<Vec<Sample>>;

/// Runs `load.rounds` rounds over `targets`, interleaved ([`rounds::order`]).
pub fn run(
    targets: &[Target],
    load: &Load,
    wrk: &Path,
    artifacts: &Artifacts,
) -> anyhow::Result<Results> {
    // In-process, on its own current-thread runtime: a fast JSON echo (tens of thousands of
    // requests/s on one core), the same upstream the end-to-end tests use.
    let backend = Backend::start("bench");
    // Only `failover` knows it, and only the probe's failing request reaches it (a retry).
    let spare = Backend::start("spare");
    probe::echo("direct", &url_of(backend.addr))?;
    let relay = Relay::start(backend.addr)?;
    probe::echo("tcp relay", &url_of(relay.addr))?;
    let upstreams = Upstreams {
        backend: backend.addr,
        spare: spare.addr,
    };
    prime_module_cache(targets, &upstreams, artifacts)?;

    let mut results: Results = vec![Vec::new(); targets.len()];
    for round in 0..load.rounds as usize {
        for i in rounds::order(round, targets.len()) {
            let target = &targets[i];
            let sample = measure(target, &upstreams, relay.addr, load, wrk, artifacts)?;
            let mib = |kib: Option<u64>| kib.map_or(0.0, |kib| kib as f64 / 1024.0);
            let extra = match sample.ready_after {
                Some(ready) => format!(
                    "  ready {:.0} ms  RSS {:.1} → peak {:.1} MiB",
                    ready.as_secs_f64() * 1e3,
                    mib(sample.ready_rss_kib),
                    mib(sample.peak_rss_kib),
                ),
                None => String::new(),
            };
            rounds::progress(round, load.rounds, &target.label(), &sample.wrk, &extra);
            results[i].push(sample);
        }
    }
    Ok(results)
}

/// Starts wasmesh once with the longest chain, unmeasured: it compiles any module its disk cache
/// does not hold yet (e.g. just rebuilt), so every measured start is the cached cold start, the
/// one the aim is about, instead of round 1 alone paying for Cranelift.
fn prime_module_cache(
    targets: &[Target],
    upstreams: &Upstreams,
    artifacts: &Artifacts,
) -> anyhow::Result<()> {
    let longest = targets
        .iter()
        .filter(|t| t.host == Some(ProxyKind::Wasmesh))
        .max_by_key(|t| t.chain.filters().len());
    if let Some(target) = longest.filter(|t| !t.chain.filters().is_empty()) {
        let config = target.chain.mesh_config(|f| artifacts.module(f), upstreams);
        let proxy = RunningProxy::start(ProxyKind::Wasmesh, &config, artifacts)?;
        eprintln!(
            "primed wasmesh's module cache: {} ready in {:.0} ms (not measured)",
            target.label(),
            proxy.ready_after.as_secs_f64() * 1e3
        );
    }
    Ok(())
}

/// Starts the target's proxy (fresh for every sample, so its cold start and peak RSS are this
/// run's), reads its RSS at ready, checks one response, warms up, measures, then reads the peak
/// RSS before the proxy is stopped.
fn measure(
    target: &Target,
    upstreams: &Upstreams,
    relay: SocketAddr,
    load: &Load,
    wrk: &Path,
    artifacts: &Artifacts,
) -> anyhow::Result<Sample> {
    let Some(kind) = target.host else {
        let url = url_of(if target.relay {
            relay
        } else {
            upstreams.backend
        });
        let (_, result) = wrk::warm_up_then_measure(wrk, &url, load, || ())?;
        return Ok(Sample {
            wrk: result,
            peak_rss_kib: None,
            ready_rss_kib: None,
            ready_after: None,
        });
    };
    let config = target.chain.mesh_config(|f| artifacts.module(f), upstreams);
    let proxy = RunningProxy::start(kind, &config, artifacts)?;
    let ready_rss_kib = rss_kib(proxy.pid());
    check_chain(target, &proxy, *upstreams)?;
    let url = url_of(proxy.listener);
    let (_, result) = wrk::warm_up_then_measure(wrk, &url, load, || ())?;
    proxy.check_alive()?;
    Ok(Sample {
        wrk: result,
        peak_rss_kib: peak_rss_kib(proxy.pid()),
        ready_rss_kib,
        ready_after: Some(proxy.ready_after),
    })
}

/// Two requests before the load: one that must be a 200 from the backend, one the backends
/// answer 503 ([`FAILING_PATH`], for `failover` to retry); then every known filter's mark must
/// show exactly when the target's chain has that filter, so a line never measures a broken or
/// wrong chain.
fn check_chain(target: &Target, proxy: &RunningProxy, upstreams: Upstreams) -> anyhow::Result<()> {
    let label = target.label();
    let (response, echo) = probe::echo(&label, &url_of(proxy.listener))?;
    let failing_url = format!("http://{}{FAILING_PATH}", proxy.listener);
    let failing = probe::get(&label, &failing_url)?;
    if failing.status != 503 {
        bail!(
            "{label}: GET {failing_url} answered {}, not the backends' 503",
            failing.status
        );
    }
    let stats = probe::admin_text(&label, proxy.admin, "/stats/prometheus")?;
    let seen = Evidence {
        response: &response,
        echo: &echo,
        failing: &failing,
        stats: &stats,
        upstreams,
    };
    for filter in Filter::ALL {
        let Spec { name, ran, .. } = filter.spec();
        let ran = ran(&seen).with_context(|| format!("{label}: the probe request"))?;
        let configured = target.chain.filters().contains(&filter);
        if ran != configured {
            let what = if configured { "no" } else { "a" };
            bail!("{label}: the probe request shows {what} sign of the {name} filter");
        }
    }
    Ok(())
}
