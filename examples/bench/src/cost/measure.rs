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
use crate::cpu::{self, Source, Spent};
use crate::launch::RunningProxy;
use crate::machine::{peak_rss_kib, rss_kib};
use crate::module_rss::module_rss_kib;
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
    /// CPU time the hop spent during the measured run (not the warm-up): the proxy process, or
    /// the relay's thread; `None` when going direct.
    pub hop_cpu: Option<Spent>,
    /// CPU time the backend's thread spent during the measured run, whatever is in front of it.
    pub backend_cpu: Option<Spent>,
    /// wasmesh only: resident KiB of the compiled modules' shared mappings
    /// ([`module_rss_kib`]) right after `/ready`, and after the run.
    pub ready_module_kib: Option<u64>,
    /// See `ready_module_kib`.
    pub peak_module_kib: Option<u64>,
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
    // `wasmesh-backend` names its thread `backend-<name>` (the relay records its own id).
    let backend_thread = cpu::await_thread_named("backend-bench").map(Source::Thread);
    if backend_thread.is_none() {
        eprintln!("warning: the backend's thread was not found: no backend CPU figures");
    }
    // Only `failover` knows it, and only the probe's failing request reaches it (a retry).
    let spare = Backend::start("spare");
    probe::echo("direct", &url_of(backend.addr))?;
    let relay = Relay::start(backend.addr)?;
    probe::echo("tcp relay", &url_of(relay.addr))?;
    let cpu_of = Cpu {
        relay: relay.thread_id.map(Source::Thread),
        backend: backend_thread,
    };
    let upstreams = Upstreams {
        backend: backend.addr,
        spare: spare.addr,
    };
    prime_module_cache(targets, &upstreams, artifacts)?;

    let mut results: Results = vec![Vec::new(); targets.len()];
    for round in 0..load.rounds as usize {
        for i in rounds::order(round, targets.len()) {
            let target = &targets[i];
            let sample = measure(target, &upstreams, relay.addr, cpu_of, load, wrk, artifacts)?;
            let mib = |kib: Option<u64>| kib.map_or(0.0, |kib| kib as f64 / 1024.0);
            let requests = sample.wrk.requests;
            let cpu = |spent: Option<Spent>| {
                spent
                    .and_then(|s| s.micros_per_request(requests))
                    .map_or("—".into(), |us| format!("{us:.0}"))
            };
            let mut extra = format!(
                "  CPU µs/req {} (backend {})",
                cpu(sample.hop_cpu),
                cpu(sample.backend_cpu)
            );
            if let Some(ready) = sample.ready_after {
                extra += &format!(
                    "  ready {:.0} ms  RSS {:.1} → peak {:.1} MiB",
                    ready.as_secs_f64() * 1e3,
                    mib(sample.ready_rss_kib),
                    mib(sample.peak_rss_kib),
                );
            }
            if let Some(kib) = sample.peak_module_kib {
                extra += &format!(" (modules {:.1})", mib(Some(kib)));
            }
            rounds::progress(round, load.rounds, &target.label(), &sample.wrk, &extra);
            results[i].push(sample);
        }
    }
    Ok(results)
}

/// Starts wasmesh once with the longest chain, unmeasured: it compiles any module its disk cache
/// does not hold yet (e.g. just rebuilt), so every measured start is the cached cold start, the
/// one the aim is about, instead of round 1 alone paying for Cranelift.
pub(crate) fn prime_module_cache(
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

/// Whose CPU time the bench can read besides a proxy's: threads of its own process.
#[derive(Debug, Clone, Copy)]
struct Cpu {
    relay: Option<Source>,
    backend: Option<Source>,
}

/// The warm-up, then the measured run with the CPU time `hop` and `cpu.backend` spent during
/// it (read right before wrk starts and right after it ends).
fn measure_cpu(
    wrk: &Path,
    url: &str,
    load: &Load,
    hop: Option<Source>,
    cpu: Cpu,
) -> anyhow::Result<(WrkResult, Option<Spent>, Option<Spent>)> {
    let read = |source: Option<Source>| source.and_then(Source::ticks);
    let (before, result) =
        wrk::warm_up_then_measure(wrk, url, load, || (read(hop), read(cpu.backend)))?;
    let (hop_after, backend_after) = (read(hop), read(cpu.backend));
    Ok((
        result,
        Spent::between(before.0, hop_after),
        Spent::between(before.1, backend_after),
    ))
}

/// Starts the target's proxy (fresh for every sample, so its cold start and peak RSS are this
/// run's), reads its RSS at ready, checks one response, warms up, measures, then reads the peak
/// RSS before the proxy is stopped.
fn measure(
    target: &Target,
    upstreams: &Upstreams,
    relay: SocketAddr,
    cpu: Cpu,
    load: &Load,
    wrk: &Path,
    artifacts: &Artifacts,
) -> anyhow::Result<Sample> {
    let Some(kind) = target.host else {
        let (addr, hop) = if target.relay {
            (relay, cpu.relay)
        } else {
            (upstreams.backend, None)
        };
        let (result, hop_cpu, backend_cpu) = measure_cpu(wrk, &url_of(addr), load, hop, cpu)?;
        return Ok(Sample {
            wrk: result,
            peak_rss_kib: None,
            ready_rss_kib: None,
            ready_after: None,
            hop_cpu,
            backend_cpu,
            ready_module_kib: None,
            peak_module_kib: None,
        });
    };
    let config = target.chain.mesh_config(|f| artifacts.module(f), upstreams);
    let wasmesh = match (&artifacts.baseline, target.baseline) {
        (Some(baseline), true) => baseline,
        _ => &artifacts.wasmesh,
    };
    let proxy = RunningProxy::start_binary(kind, &config, artifacts, wasmesh)?;
    let pid = proxy.pid();
    let ready_rss_kib = rss_kib(pid);
    let modules = || {
        (kind == ProxyKind::Wasmesh)
            .then(|| module_rss_kib(pid))
            .flatten()
    };
    let ready_module_kib = modules();
    check_chain(target, &proxy, *upstreams)?;
    let url = url_of(proxy.listener);
    let hop = Some(Source::Process(pid));
    let (result, hop_cpu, backend_cpu) = measure_cpu(wrk, &url, load, hop, cpu)?;
    proxy.check_alive()?;
    Ok(Sample {
        wrk: result,
        peak_rss_kib: peak_rss_kib(pid),
        ready_rss_kib,
        ready_after: Some(proxy.ready_after),
        hop_cpu,
        backend_cpu,
        ready_module_kib,
        peak_module_kib: modules(),
    })
}

/// Two requests before the load: one that must be a 200 from the backend, one the backends
/// answer 503 ([`FAILING_PATH`], for `failover` to retry); then every known filter's mark must
/// show exactly when the target's chain has that filter, so a line never measures a broken or
/// wrong chain.
pub(crate) fn check_chain(
    target: &Target,
    proxy: &RunningProxy,
    upstreams: Upstreams,
) -> anyhow::Result<()> {
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
