//! The command line: `wasmesh run`, `wasmesh check`, `wasmesh stat`.

use std::net::TcpListener;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::host::{ConfigSource, Generation, Host};
use wasmesh_host::runtime::Runtime;
use wasmesh_host::state::SharedState;

/// A proxy-wasm host proxy: runs wasm filters on HTTP and TCP traffic, as Envoy does.
#[derive(Parser)]
#[command(name = "wasmesh", version)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Subcommand)]
pub enum Command {
    /// Run the proxy (without -c: the embedded demo configuration).
    Run {
        /// JSON configuration file.
        #[arg(short, long)]
        config: Option<PathBuf>,
        /// Write the admin address here once ready (like Envoy's flag).
        #[arg(long)]
        admin_address_path: Option<PathBuf>,
        /// Worker threads (overrides the config's `workers`).
        #[arg(long)]
        workers: Option<usize>,
    },
    /// Validate a configuration and load every module it names; exit non-zero with the reason.
    Check {
        /// JSON configuration file.
        #[arg(short, long)]
        config: PathBuf,
    },
    /// Success rate, requests per second, latency percentiles and in-flight requests per route
    /// (or per endpoint), read from a running wasmesh's or Envoy's admin, like `linkerd viz stat`.
    Stat(crate::stat::StatArgs),
    /// Every proxy-wasm hostcall, WASI function and callback this host offers, with how far it
    /// goes, and the proposed host feature flags it has (also the admin's `GET /abi`).
    Abi {
        /// Print JSON instead of the table.
        #[arg(long)]
        json: bool,
    },
}

/// Runs a parsed command line.
pub fn main(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Run {
            config,
            admin_address_path,
            workers,
        } => run(config, admin_address_path, workers),
        Command::Check { config } => check(config),
        Command::Stat(args) => crate::stat::run(args),
        Command::Abi { json } => {
            if json {
                println!("{:#}", crate::abi_report::json());
            } else {
                print!("{}", crate::abi_report::text());
            }
            Ok(())
        }
    }
}

fn check(path: PathBuf) -> Result<()> {
    let config = Config::load(&path)?;
    let runtime = Runtime::new()?;
    let generation = Generation::build(1, config, &runtime, &SharedState::new(), None)?;
    let canaries = match generation.canaries.len() {
        0 => String::new(),
        n => format!(" and {n} canaries"),
    };
    println!(
        "{}: OK ({} plugins{canaries} loaded and configured, {} listeners, {} clusters)",
        path.display(),
        generation.factories.len(),
        generation.config.listeners.len(),
        generation.config.clusters.len()
    );
    Ok(())
}

fn run(
    path: Option<PathBuf>,
    admin_address_path: Option<PathBuf>,
    workers: Option<usize>,
) -> Result<()> {
    let source = match path {
        Some(path) => ConfigSource::File(path),
        None => ConfigSource::Embedded,
    };
    let host = Host::start(source)?;
    let config = host.current().config.clone();
    let count = workers.unwrap_or_else(|| config.worker_count()).max(1);
    host.bind_listeners(count)?;
    let admin = TcpListener::bind(config.admin.address)
        .with_context(|| format!("binding admin on {}", config.admin.address))?;
    let admin_addr = admin.local_addr()?;
    crate::admin::spawn(host.clone(), admin)?;
    crate::worker::spawn(host.clone(), count)?;
    crate::watch::spawn(host.clone())?;
    crate::heap::spawn(host.overload.clone())?;
    host.set_ready();
    log::info!("admin on {admin_addr}; {count} workers ready");
    if let Some(path) = admin_address_path {
        std::fs::write(&path, admin_addr.to_string())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    wait_for_signals(host)
}

fn wait_for_signals(host: std::sync::Arc<Host>) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        use tokio::signal::unix::{signal, SignalKind};
        let mut hup = signal(SignalKind::hangup())?;
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        loop {
            tokio::select! {
                _ = hup.recv() => {
                    let host = host.clone();
                    let _ = tokio::task::spawn_blocking(move || host.reload()).await;
                }
                _ = term.recv() => break,
                _ = int.recv() => break,
            }
        }
        log::info!("stopping: retiring plugin VMs");
        let host = host.clone();
        let _ =
            tokio::task::spawn_blocking(move || host.shutdown(std::time::Duration::from_secs(2)))
                .await;
        Ok(())
    })
}
