//! The `tls` mode's rounds: every case once per round, interleaved ([`rounds`]), a fresh
//! proxy per sample, on a core of its own where the machine has two or more ([`affinity`]).
//! Keep-alive load comes from wrk, the handshake load from [`handshaker`].

use std::path::{Path, PathBuf};

use anyhow::Context;
use wasmesh_backend::Backend;
use wasmesh_certs::{Authority, Workload};
use wasmesh_tests::{Cluster, Listener, ListenerTls, MeshConfig, ProxyKind, Route};

use crate::args::TlsArgs;
use crate::artifacts::Artifacts;
use crate::cpu::{Source, Spent};
use crate::launch::RunningProxy;
use crate::probe;
use crate::rounds;
use crate::tls::handshaker;
use crate::wrk;

/// How a case's connections go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connections {
    /// Kept alive: one handshake per connection, then requests.
    KeepAlive,
    /// `Connection: close`: a handshake per request.
    New,
}

/// One line of the table.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    /// Which host.
    pub host: ProxyKind,
    /// Which load.
    pub connections: Connections,
}

impl Case {
    /// Every case, in table order.
    pub const ALL: [Case; 4] = [
        Case {
            host: ProxyKind::Envoy,
            connections: Connections::KeepAlive,
        },
        Case {
            host: ProxyKind::Wasmesh,
            connections: Connections::KeepAlive,
        },
        Case {
            host: ProxyKind::Envoy,
            connections: Connections::New,
        },
        Case {
            host: ProxyKind::Wasmesh,
            connections: Connections::New,
        },
    ];

    /// `wasmesh, keep-alive`.
    pub fn label(&self) -> String {
        let load = match self.connections {
            Connections::KeepAlive => "TLS keep-alive",
            Connections::New => "TLS handshake per request",
        };
        format!("{} {load}", self.host.name())
    }
}

pub use crate::pinned::Sample;

/// Every case's samples in round order, indexed like [`Case::ALL`].
pub type Results = Vec<Vec<Sample>>;

/// Mints the certificate, starts the backend, then runs the rounds.
pub fn run(args: &TlsArgs, wrk: &Path, artifacts: &Artifacts) -> anyhow::Result<Results> {
    let load = &args.load;
    let (cert, key) = mint()?;
    let cores = crate::affinity::split(crate::affinity::cores());
    if let Some((_, rest)) = &cores {
        crate::affinity::pin(std::process::id(), rest)?;
    }
    let backend = Backend::start("bench");
    probe::echo("direct", &probe::url_of(backend.addr))?;
    let mut results: Results = vec![Vec::new(); Case::ALL.len()];
    for round in 0..load.rounds as usize {
        for i in rounds::order(round, Case::ALL.len()) {
            let case = Case::ALL[i];
            let config = config(backend.addr, &cert, &key);
            let proxy = RunningProxy::start(case.host, &config, artifacts)?;
            if let Some((own, _)) = &cores {
                crate::affinity::pin(proxy.pid(), own)?;
            }
            let url = format!("https://{}/", proxy.listener);
            let process = Source::Process(proxy.pid());
            let (before, result) = match case.connections {
                Connections::KeepAlive => {
                    wrk::warm_up_then_measure_with(wrk, &url, &[], load, || process.ticks())?
                }
                Connections::New => handshaker::warm_up_then_measure(
                    proxy.listener,
                    load.connections,
                    load.warmup,
                    load.duration,
                    || process.ticks(),
                )?,
            };
            let cpu = Spent::between(before, process.ticks());
            proxy.check_alive()?;
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

/// One listener with TLS in front of the backend, no filters.
fn config(backend: std::net::SocketAddr, cert: &Path, key: &Path) -> MeshConfig {
    let tls = ListenerTls {
        certificate_chain: cert.to_path_buf(),
        private_key: key.to_path_buf(),
        client_ca: None,
        require_client_certificate: false,
    };
    MeshConfig::new()
        .cluster(Cluster::fixed("backend", [backend]))
        .listener(
            Listener::new("main")
                .route(Route::prefix("/", "backend"))
                .tls(tls),
        )
}

/// A CA and a server certificate (ECDSA P-256, rcgen's default) for the run, in
/// `target/bench/tls`.
fn mint() -> anyhow::Result<(PathBuf, PathBuf)> {
    let dir = wasmesh_tests::target_dir().join("bench").join("tls");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let ca = Authority::new("wasmesh bench CA")?;
    let id = wasmesh_certs::spiffe_id("bench.test", "default", "bench");
    let server = ca.issue(&Workload::server("localhost", id))?;
    let (cert, key) = (dir.join("server.pem"), dir.join("server-key.pem"));
    std::fs::write(&cert, &server.cert_pem)?;
    std::fs::write(&key, &server.key_pem)?;
    Ok((cert, key))
}
