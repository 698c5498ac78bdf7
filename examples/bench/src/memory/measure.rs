//! The `memory` mode's runs: for each scenario, for each host, a fresh backend
//! ([`BulkBackend`]) and a fresh proxy, one request to check the setup serves, then the RSS before, the scenario with the
//! proxy sampled throughout, and the RSS [`AFTER`] its end. A run that fails (a proxy that dies
//! under the scenario is a finding too) is kept as its error, and the other runs go on.

use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use wasmesh_tests::ProxyKind;

use crate::args::MemoryArgs;
use crate::artifacts::Artifacts;
use crate::launch::RunningProxy;
use crate::machine::{peak_rss_kib, rss_kib};
use crate::memory::bulk_backend::BulkBackend;
use crate::memory::clock::{secs, Clock};
use crate::memory::sampler::{reset_peak, Files, Point, Sampler};
use crate::memory::scenarios::{Scenario, ABI_BODY_CASE, KEY_HEADER};
use crate::memory::{h2_window, http1, key_flood, stalled, upload};

/// How long after a scenario's end the "after" RSS is read: time for the proxy to free what the
/// scenario's connections held (allocators keep some: that shows here too).
pub const AFTER: Duration = Duration::from_secs(2);
/// The hosts, in table order.
pub const HOSTS: [ProxyKind; 2] = [ProxyKind::Envoy, ProxyKind::Wasmesh];
/// The probe request's time limit.
const PROBE_LIMIT: Duration = Duration::from_secs(5);

/// One scenario against one host.
#[derive(Debug)]
pub struct Run {
    /// Which scenario.
    pub scenario: Scenario,
    /// Which host.
    pub host: ProxyKind,
    /// What was measured, or why nothing could be.
    pub result: Result<Figures, String>,
}

/// The figures of one run.
#[derive(Debug, Clone)]
pub struct Figures {
    /// `VmRSS` after the probe, right before the scenario, KiB.
    pub before_kib: u64,
    /// The highest `VmRSS` sampled during the scenario, and when.
    pub peak: Option<Point>,
    /// `VmHWM` at the scenario's end, reset right before it: the peak no sample can miss;
    /// `None` if the kernel would not reset it.
    pub hwm_kib: Option<u64>,
    /// `VmRSS` [`AFTER`] the scenario's end, KiB.
    pub after_kib: Option<u64>,
    /// What the proxy's open-file count did.
    pub files: Option<Files>,
    /// How long the scenario ran.
    pub took: Duration,
    /// What the clients saw.
    pub outcome: String,
}

/// Primes wasmesh's module cache, then runs every scenario of `args` against every host.
pub fn run(args: &MemoryArgs, artifacts: &Artifacts) -> anyhow::Result<Vec<Run>> {
    prime_module_cache(args, artifacts)?;
    let mut runs = Vec::new();
    for &scenario in &args.scenarios {
        for host in HOSTS {
            let result = measure(scenario, host, args, artifacts).map_err(|e| format!("{e:#}"));
            progress(scenario, host, &result);
            runs.push(Run {
                scenario,
                host,
                result,
            });
        }
    }
    Ok(runs)
}

/// Starts wasmesh once with each scenario's plugin, unmeasured: a module its disk cache lacks is
/// compiled then, not in a measured start, whose "before" would then carry Cranelift's memory.
fn prime_module_cache(args: &MemoryArgs, artifacts: &Artifacts) -> anyhow::Result<()> {
    let backend = BulkBackend::start()?;
    for scenario in [Scenario::Upload, Scenario::KeyFlood] {
        if args.scenarios.contains(&scenario) {
            let config = scenario.mesh_config(backend.addr, artifacts, args.route_timeout_ms);
            let proxy = RunningProxy::start(ProxyKind::Wasmesh, &config, artifacts)?;
            eprintln!(
                "primed wasmesh's module cache for {}: ready in {:.0} ms (not measured)",
                scenario.label(),
                proxy.ready_after.as_secs_f64() * 1e3
            );
        }
    }
    Ok(())
}

/// One run; the proxy and backend are stopped when it returns, whatever happened.
fn measure(
    scenario: Scenario,
    host: ProxyKind,
    args: &MemoryArgs,
    artifacts: &Artifacts,
) -> anyhow::Result<Figures> {
    let backend = BulkBackend::start()?;
    let config = scenario.mesh_config(backend.addr, artifacts, args.route_timeout_ms);
    let proxy = RunningProxy::start(host, &config, artifacts)?;
    probe(scenario, &proxy)?;
    let pid = proxy.pid();
    let before_kib = rss_kib(pid).ok_or_else(|| anyhow!("cannot read the proxy's VmRSS"))?;
    let reset = reset_peak(pid);
    let clock = Clock::start();
    let sampler = Sampler::start(pid, clock);
    let addr = proxy.listener;
    let outcome = match scenario {
        Scenario::Upload => upload::run(addr, args.upload_mib, clock),
        Scenario::Stalled => {
            stalled::run(addr, args.clients, args.response_bytes, args.stall, clock)
        }
        Scenario::H2Window => {
            h2_window::run(addr, args.clients, args.response_bytes, args.stall, clock)
        }
        Scenario::KeyFlood => {
            key_flood::run(addr, proxy.admin, args.keys, args.flood_connections, clock)
        }
    }
    .with_context(|| format!("{}: the scenario's client", host.name()))?;
    let took = clock.now();
    let hwm_kib = reset.then(|| peak_rss_kib(pid)).flatten();
    std::thread::sleep(AFTER);
    let after_kib = rss_kib(pid);
    proxy.check_alive()?;
    let trace = sampler.finish();
    Ok(Figures {
        before_kib,
        peak: trace.peak_until(took),
        hwm_kib,
        after_kib,
        files: trace.files_until(took),
        took,
        outcome,
    })
}

/// One request the scenario's setup must serve before anything is measured: the abi guest lets
/// a small body through, `ratelimit` lets a first key through, the backend serves `/bytes`.
fn probe(scenario: Scenario, proxy: &RunningProxy) -> anyhow::Result<()> {
    let request = match scenario {
        Scenario::Upload => {
            let (case, value) = ABI_BODY_CASE;
            format!(
                "POST /probe HTTP/1.1\r\nhost: memory.bench\r\n{case}: {value}\r\n\
                 content-length: 5\r\n\r\nprobe"
            )
        }
        Scenario::KeyFlood => {
            format!("GET /probe HTTP/1.1\r\nhost: memory.bench\r\n{KEY_HEADER}: probe\r\n\r\n")
        }
        Scenario::Stalled | Scenario::H2Window => {
            "GET /bytes?n=16 HTTP/1.1\r\nhost: memory.bench\r\n\r\n".into()
        }
    };
    let host = proxy.kind.name();
    match http1::exchange(proxy.listener, request.as_bytes(), PROBE_LIMIT) {
        Ok(200) => Ok(()),
        Ok(status) => bail!("{host}: the probe request got {status}, not 200"),
        Err(e) => bail!("{host}: the probe request: {e}"),
    }
}

/// One progress line on stderr per run (the report goes to stdout).
fn progress(scenario: Scenario, host: ProxyKind, result: &Result<Figures, String>) {
    let label = format!("{} {}", scenario.label(), host.name());
    match result {
        Ok(f) => eprintln!(
            "{label:<34} RSS {} → peak {} → {} MiB in {}: {}",
            mib(Some(f.before_kib)),
            mib(f.peak.map(|p| p.rss_kib)),
            mib(f.after_kib),
            secs(f.took),
            f.outcome
        ),
        Err(e) => eprintln!("{label:<34} FAILED: {e}"),
    }
}

/// KiB as MiB with one decimal; `—` when unknown.
pub fn mib(kib: Option<u64>) -> String {
    kib.map_or("—".into(), |kib| format!("{:.1}", kib as f64 / 1024.0))
}
