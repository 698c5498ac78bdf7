//! The `tcp` mode's rounds: every case once per round, interleaved ([`rounds`]), a fresh proxy
//! per sample, on a core of its own where the machine has two or more ([`affinity`]).

use std::net::SocketAddr;
use std::path::Path;

use serde_json::json;
use wasmesh_backend::Backend;
use wasmesh_tests::{build_filters, Cluster, Listener, MeshConfig, Plugin, ProxyKind};

use crate::args::TcpArgs;
use crate::artifacts::Artifacts;
use crate::cpu::{Source, Spent};
use crate::launch::RunningProxy;
use crate::probe;
use crate::relay::Relay;
use crate::rounds;
use crate::wrk;

/// What relays the connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hop {
    /// The bench's own relay: one thread copying bytes, the floor.
    Relay,
    /// A proxy's TCP listener.
    Proxy {
        /// Which host.
        host: ProxyKind,
        /// With the quiet network filter.
        filter: bool,
    },
}

/// Every case, in table order.
pub const CASES: [Hop; 5] = [
    Hop::Relay,
    Hop::Proxy {
        host: ProxyKind::Envoy,
        filter: false,
    },
    Hop::Proxy {
        host: ProxyKind::Wasmesh,
        filter: false,
    },
    Hop::Proxy {
        host: ProxyKind::Envoy,
        filter: true,
    },
    Hop::Proxy {
        host: ProxyKind::Wasmesh,
        filter: true,
    },
];

impl Hop {
    /// `wasmesh tcp_proxy + network filter`.
    pub fn label(&self) -> String {
        match self {
            Hop::Relay => "relay (one thread copying)".to_string(),
            Hop::Proxy { host, filter } => {
                let filter = if *filter { " + network filter" } else { "" };
                format!("{} tcp_proxy{filter}", host.name())
            }
        }
    }
}

pub use crate::pinned::Sample;

/// Every case's samples in round order, indexed like [`CASES`].
pub type Results = Vec<Vec<Sample>>;

/// Starts the backend, then runs the rounds.
pub fn run(args: &TcpArgs, wrk: &Path, artifacts: &Artifacts) -> anyhow::Result<Results> {
    let load = &args.load;
    let cores = crate::affinity::split(crate::affinity::cores());
    if let Some((_, rest)) = &cores {
        crate::affinity::pin(std::process::id(), rest)?;
    }
    let backend = Backend::start("bench");
    probe::echo("direct", &probe::url_of(backend.addr))?;
    let mut results: Results = vec![Vec::new(); CASES.len()];
    for round in 0..load.rounds as usize {
        for i in rounds::order(round, CASES.len()) {
            let case = CASES[i];
            let (addr, process, running) = match case {
                Hop::Relay => {
                    let relay = Relay::start(backend.addr)?;
                    let source = relay.thread_id.map(Source::Thread);
                    (relay.addr, source, Running::Relay(relay))
                }
                Hop::Proxy { host, filter } => {
                    let proxy =
                        RunningProxy::start(host, &config(backend.addr, filter), artifacts)?;
                    if let Some((own, _)) = &cores {
                        crate::affinity::pin(proxy.pid(), own)?;
                    }
                    let source = Some(Source::Process(proxy.pid()));
                    (proxy.listener, source, Running::Proxy(proxy))
                }
            };
            let url = format!("http://{addr}/");
            probe::echo(&case.label(), &url)?;
            let ticks = || process.and_then(Source::ticks);
            let (before, result) = wrk::warm_up_then_measure_with(wrk, &url, &[], load, ticks)?;
            let cpu = Spent::between(before, ticks());
            if let Running::Proxy(proxy) = &running {
                proxy.check_alive()?;
            }
            let sample = Sample {
                wrk: result,
                cpu,
                seconds: load.duration.as_secs_f64(),
            };
            rounds::progress(
                round,
                load.rounds,
                &case.label(),
                &sample.wrk,
                &sample.cpu_note(),
            );
            results[i].push(sample);
        }
    }
    Ok(results)
}

/// What serves a case, kept until its sample is taken.
enum Running {
    /// Held only to keep it relaying.
    Relay(#[allow(dead_code)] Relay),
    Proxy(RunningProxy),
}

/// A TCP listener `main` (the name the bench finds a proxy's port by) in front of the backend,
/// with the quiet network filter or none.
fn config(backend: SocketAddr, filter: bool) -> MeshConfig {
    let mut listener = Listener::tcp("main", "backend");
    let mut config = MeshConfig::new().cluster(Cluster::fixed("backend", [backend]));
    if filter {
        let plugin =
            Plugin::new("count", &build_filters().tcp_test).configuration(json!({ "quiet": true }));
        config = config.plugin(plugin);
        listener = listener.filter("count");
    }
    config.listener(listener)
}
