//! The `scale` mode's rounds: every case (a host, with or without the chain, at a worker count)
//! once per round, interleaved ([`rounds`]), a fresh proxy per sample, its workers on cores of
//! their own and wrk and the backend on others ([`Layout`]), with the CPU time each of the
//! three spent, so the report can tell a proxy at its limit from a load that was not enough.

use std::path::Path;

use anyhow::{anyhow, Context};
use wasmesh_backend::{Backend, BackendHandle};
use wasmesh_tests::ProxyKind;

use crate::affinity;
use crate::args::{Load, ScaleArgs};
use crate::artifacts::Artifacts;
use crate::cost::chain::{Chain, Upstreams};
use crate::cost::measure::{check_chain, prime_module_cache};
use crate::cost::targets::Target;
use crate::cpu::{self, Source, Spent};
use crate::launch::RunningProxy;
use crate::probe::{self, url_of};
use crate::rounds;
use crate::scale::layout::Layout;
use crate::wrk::{self, Generator, WrkResult};

/// One line of the table: a target at a worker count.
#[derive(Debug, Clone)]
pub struct Case {
    /// What wrk talks to: a host with or without the chain, or the backend directly.
    pub target: Target,
    /// The proxy's workers (Envoy's `--concurrency`); for `direct`, the most any case has, whose
    /// load it gets.
    pub workers: usize,
}

impl Case {
    /// `wasmesh + metrics + failover + lb`, or `direct (the load's capacity)`.
    pub fn label(&self) -> String {
        match self.target.host {
            None => "direct (the load's capacity)".into(),
            Some(_) => self.target.label(),
        }
    }
}

/// One measurement of one case.
#[derive(Debug, Clone)]
pub struct Sample {
    /// What wrk measured.
    pub wrk: WrkResult,
    /// CPU time the proxy (every thread) spent during the measured run; `None` when direct.
    pub proxy: Option<Spent>,
    /// CPU time wrk spent in the measured run.
    pub client: Option<Spent>,
    /// CPU time the backend's threads spent during the measured run.
    pub backend: Option<Spent>,
    /// Where everything ran.
    pub layout: Layout,
    /// wrk's threads.
    pub client_threads: u32,
    /// The backend's threads that serve connections.
    pub backend_threads: usize,
    /// How long the measured run lasted.
    pub seconds: f64,
}

impl Sample {
    /// The proxy's CPU microseconds per request.
    pub fn cpu_us_per_request(&self) -> Option<f64> {
        self.proxy?.micros_per_request(self.wrk.requests)
    }

    /// How busy the proxy's cores were, in percent of all of them.
    pub fn proxy_busy(&self) -> Option<f64> {
        self.busy(self.proxy, self.layout.proxy.count)
    }

    /// How busy wrk's threads were, in percent: near 100 means the load generator was the limit.
    pub fn client_busy(&self) -> Option<f64> {
        self.busy(self.client, self.client_threads as usize)
    }

    /// How busy the backend's threads were, in percent: near 100 means the backend was the limit.
    pub fn backend_busy(&self) -> Option<f64> {
        self.busy(self.backend, self.backend_threads)
    }

    fn busy(&self, spent: Option<Spent>, threads: usize) -> Option<f64> {
        let capacity = cpu::ticks_per_sec() as f64 * self.seconds * threads.max(1) as f64;
        Some(100.0 * spent?.ticks as f64 / capacity)
    }
}

/// Every case's samples in round order, indexed like the cases.
pub type Results = Vec<Vec<Sample>>;

/// Direct once, then per worker count: each host without filters and with the chain (and the
/// baseline wasmesh, without and with it, when given).
pub fn cases(workers: &[usize], chain: &Chain, baseline: bool) -> Vec<Case> {
    let most = workers.iter().copied().max().unwrap_or(1);
    let direct = Case {
        target: target(None, Chain::default(), false),
        workers: most,
    };
    let mut cases = vec![direct];
    for &n in workers {
        for host in [ProxyKind::Envoy, ProxyKind::Wasmesh] {
            for with_chain in [Chain::default(), chain.clone()] {
                cases.push(Case {
                    target: target(Some(host), with_chain, false),
                    workers: n,
                });
            }
        }
        if baseline {
            for with_chain in [Chain::default(), chain.clone()] {
                cases.push(Case {
                    target: target(Some(ProxyKind::Wasmesh), with_chain, true),
                    workers: n,
                });
            }
        }
    }
    cases
}

fn target(host: Option<ProxyKind>, chain: Chain, baseline: bool) -> Target {
    Target {
        host,
        relay: false,
        chain,
        baseline,
    }
}

/// The worker counts the run measures, in order.
pub fn worker_counts(args: &ScaleArgs) -> Vec<usize> {
    args.workers
        .clone()
        .unwrap_or_else(|| crate::scale::layout::default_workers(affinity::cores()))
}

/// Starts the backends, primes wasmesh's module cache, then runs the rounds.
pub fn run(
    args: &ScaleArgs,
    cases: &[Case],
    wrk: &Path,
    artifacts: &Artifacts,
) -> anyhow::Result<Results> {
    let load = &args.load;
    let cores = affinity::cores();
    let workers = worker_counts(args);
    let most = workers.iter().copied().max().unwrap_or(1);
    // The backend's threads: one per core the layouts give it (the same at every count on a
    // machine with room for the load beside the largest proxy).
    let smallest = Layout::plan(cores, workers.iter().copied().min().unwrap_or(1), most);
    let backend_threads = args.backend_threads.unwrap_or(smallest.backend.count);
    let backend =
        Backend::start_threads("bench", backend_threads).context("starting the backend")?;
    let backend_tids = backend_threads_of(&backend, backend_threads)?;
    let spare = Backend::start("spare");
    probe::echo("direct", &url_of(backend.addr))?;
    let upstreams = Upstreams {
        backend: backend.addr,
        spare: spare.addr,
    };
    let targets: Vec<Target> = cases.iter().map(|case| case.target.clone()).collect();
    prime_module_cache(&targets, &upstreams, artifacts)?;

    let mut results: Results = vec![Vec::new(); cases.len()];
    for round in 0..load.rounds as usize {
        for i in rounds::order(round, cases.len()) {
            let case = &cases[i];
            let layout = Layout::plan(cores, case.workers, most);
            let generator = Generator {
                wrk,
                threads: args.wrk_threads.unwrap_or(layout.client.count as u32),
                cpus: Some(layout.client.to_string()),
            };
            let load = Load {
                connections: load.connections * case.workers as u32,
                ..load.clone()
            };
            // The bench's process is the backend's: every thread of it goes to the backend's
            // cores (wrk is started on its own, the proxy moved to its own).
            affinity::pin(std::process::id(), &layout.backend.to_string())?;
            let readings = measure(
                case,
                layout,
                &generator,
                &load,
                &upstreams,
                artifacts,
                &backend_tids,
            )?;
            let sample = Sample {
                wrk: readings.result,
                proxy: readings.proxy,
                client: readings.client,
                backend: readings.backend,
                layout,
                client_threads: generator.threads,
                backend_threads,
                seconds: load.duration.as_secs_f64(),
            };
            let label = format!("N = {}: {}", case.workers, case.label());
            let note = format!(
                "  cpu {} us/req, busy: proxy {} wrk {} backend {}",
                figure(sample.cpu_us_per_request()),
                percent(sample.proxy_busy()),
                percent(sample.client_busy()),
                percent(sample.backend_busy()),
            );
            rounds::progress(round, load.rounds, &label, &sample.wrk, &note);
            results[i].push(sample);
        }
    }
    Ok(results)
}

/// What one measured run read.
struct Readings {
    result: WrkResult,
    proxy: Option<Spent>,
    client: Option<Spent>,
    backend: Option<Spent>,
}

/// Starts the case's proxy on its cores (none when direct), checks its chain with one request,
/// warms up and measures with wrk on its cores, reading CPU time around the measured run.
fn measure(
    case: &Case,
    layout: Layout,
    generator: &Generator,
    load: &Load,
    upstreams: &Upstreams,
    artifacts: &Artifacts,
    backend_tids: &[u32],
) -> anyhow::Result<Readings> {
    let proxy = match case.target.host {
        None => None,
        Some(kind) => {
            let config = case
                .target
                .chain
                .mesh_config(|f| artifacts.module(f), upstreams)
                .workers(case.workers as u32);
            let wasmesh = match (&artifacts.baseline, case.target.baseline) {
                (Some(baseline), true) => baseline,
                _ => &artifacts.wasmesh,
            };
            let proxy = RunningProxy::start_binary(kind, &config, artifacts, wasmesh)?;
            affinity::pin(proxy.pid(), &layout.proxy.to_string())?;
            check_chain(&case.target, &proxy, *upstreams)?;
            Some(proxy)
        }
    };
    let addr = proxy.as_ref().map_or(upstreams.backend, |p| p.listener);
    let hop = proxy.as_ref().map(|p| Source::Process(p.pid()));
    let read_hop = || hop.and_then(Source::ticks);
    let read_backend = || cpu::ticks_of_threads(backend_tids);
    let ((hop_before, backend_before), result, client_ticks) =
        wrk::warm_up_then_measure_on(generator, &url_of(addr), load, || {
            (read_hop(), read_backend())
        })?;
    let (proxy_spent, backend_spent) = (
        Spent::between(hop_before, read_hop()),
        Spent::between(backend_before, read_backend()),
    );
    if let Some(proxy) = &proxy {
        proxy.check_alive()?;
    }
    Ok(Readings {
        result,
        proxy: proxy_spent,
        client: client_ticks.map(|ticks| Spent { ticks }),
        backend: backend_spent,
    })
}

/// The ids of the backend's threads: the accept loop's and, multi-threaded, every worker's (all
/// named `backend-<name>`), waited for up to a second as they name themselves when they run.
fn backend_threads_of(backend: &BackendHandle, threads: usize) -> anyhow::Result<Vec<u32>> {
    let name = format!("backend-{}", backend.name());
    let wanted = if threads > 1 { threads + 1 } else { 1 };
    let start = std::time::Instant::now();
    loop {
        let found = cpu::threads_named(&name);
        if found.len() >= wanted {
            return Ok(found);
        }
        if start.elapsed() > std::time::Duration::from_secs(1) {
            return Err(anyhow!(
                "found {} of the backend's {wanted} threads named {name}",
                found.len()
            ));
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// `12.3`, or `—` when unknown.
pub fn figure(value: Option<f64>) -> String {
    value.map_or("—".into(), |v| format!("{v:.1}"))
}

/// `93 %`, or `—` when unknown.
pub fn percent(value: Option<f64>) -> String {
    value.map_or("—".into(), |v| format!("{v:.0} %"))
}
