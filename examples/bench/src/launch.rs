//! Starting a proxy for one measurement, and knowing its pid (for RSS), its admin address and
//! how long it took from spawn to ready (cold start).
//!
//! The test rig's `Proxy` does not expose its pid and runs a debug `wasmesh`, so this is a small
//! launcher of its own, started the way the rig starts both hosts: `--admin-address-path FILE`,
//! then `GET /ready`, then `GET /listeners?format=json` for the listener's real port.

use std::fs::{self, File};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use wasmesh_tests::client::Client;
use wasmesh_tests::{target_dir, MeshConfig, ProxyKind};

use crate::artifacts::Artifacts;
use crate::probe;
use crate::process::Guarded;

/// Envoy compiles the module with V8 at start; room for that on a loaded 2-core machine.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// How often readiness is probed: also the resolution of the cold-start figure, so short; the
/// probes before the address file exists are a file read each.
const READY_POLL: Duration = Duration::from_millis(5);
/// How much of a failed proxy's log an error shows.
const LOG_TAIL_LINES: usize = 40;

/// A proxy that is ready to serve; killed when dropped.
pub struct RunningProxy {
    /// Which host.
    pub kind: ProxyKind,
    /// Where listener `main` listens.
    pub listener: SocketAddr,
    /// Where the admin listens.
    pub admin: SocketAddr,
    /// From spawning the process to the first `/ready` answered 200: cold start to ready.
    pub ready_after: Duration,
    dir: PathBuf,
    process: Guarded,
}

impl RunningProxy {
    /// Starts `kind` with `config` (one worker) and waits until it is ready.
    pub fn start(
        kind: ProxyKind,
        config: &MeshConfig,
        artifacts: &Artifacts,
    ) -> anyhow::Result<Self> {
        Self::start_binary(kind, config, artifacts, &artifacts.wasmesh)
    }

    /// [`RunningProxy::start`] with `wasmesh` as the wasmesh binary (the `--baseline`).
    pub fn start_binary(
        kind: ProxyKind,
        config: &MeshConfig,
        artifacts: &Artifacts,
        wasmesh: &Path,
    ) -> anyhow::Result<Self> {
        let dir = run_dir(kind.name())?;
        let admin_path = dir.join("admin-address.txt");
        let mut command = match kind {
            ProxyKind::Envoy => envoy_command(config, artifacts, &dir, &admin_path)?,
            ProxyKind::Wasmesh => wasmesh_command(config, wasmesh, &dir, &admin_path)?,
        };
        command
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(File::create(dir.join("stdout.log"))?)
            .stderr(File::create(dir.join("stderr.log"))?);
        let spawned = Instant::now();
        let (process, _) = Guarded::spawn(command)?;
        let (admin, ready_after) = await_ready(&process, &admin_path, spawned)
            .map_err(|e| anyhow!("{} did not get ready: {e}\n{}", kind.name(), log_tail(&dir)))?;
        let listener = probe::main_listener_of(admin)
            .map_err(|e| anyhow!("{}: {e:#}\n{}", kind.name(), log_tail(&dir)))?;
        Ok(Self {
            kind,
            listener,
            admin,
            ready_after,
            dir,
            process,
        })
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// An error if the process has exited (e.g. crashed under load), with its log.
    pub fn check_alive(&self) -> anyhow::Result<()> {
        match self.process.exited() {
            Some(status) => bail!(
                "{} exited ({status}) during the run\n{}",
                self.kind.name(),
                log_tail(&self.dir)
            ),
            None => Ok(()),
        }
    }
}

impl Drop for RunningProxy {
    fn drop(&mut self) {
        // Keep the config and logs when something went wrong, so they can be read.
        if !std::thread::panicking() && self.process.exited().is_none() {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// Envoy with its bootstrap YAML, `--concurrency 1`, quiet logs.
fn envoy_command(
    config: &MeshConfig,
    artifacts: &Artifacts,
    dir: &Path,
    admin_path: &Path,
) -> anyhow::Result<Command> {
    let yaml = dir.join("envoy.yaml");
    fs::write(&yaml, config.to_envoy_yaml()).context("writing envoy.yaml")?;
    // Unique per start: Envoy's shared-memory id, so it never meets another Envoy's.
    let base_id = (std::process::id() % 4_000_000) * 1000 + next_id() % 1000;
    let mut command = Command::new(&artifacts.envoy);
    command
        .arg("-c")
        .arg(&yaml)
        .arg("--admin-address-path")
        .arg(admin_path)
        .args(["--concurrency", &config.worker_count().to_string()])
        .args(["--base-id", &base_id.to_string()])
        .args(["-l", "warning", "--disable-hot-restart"]);
    Ok(command)
}

/// `wasmesh run` with its JSON config (`"workers"` from the description), quiet logs.
fn wasmesh_command(
    config: &MeshConfig,
    wasmesh: &Path,
    dir: &Path,
    admin_path: &Path,
) -> anyhow::Result<Command> {
    let json = dir.join("wasmesh.json");
    let text = serde_json::to_string_pretty(&config.to_wasmesh_json())?;
    fs::write(&json, text).context("writing wasmesh.json")?;
    let mut command = Command::new(wasmesh);
    command
        .arg("run")
        .arg("-c")
        .arg(&json)
        .arg("--admin-address-path")
        .arg(admin_path)
        .env("RUST_LOG", "warn");
    Ok(command)
}

/// Polls until the admin answers `/ready` with 200; its address and the time since `spawned`.
fn await_ready(
    process: &Guarded,
    admin_path: &Path,
    spawned: Instant,
) -> anyhow::Result<(SocketAddr, Duration)> {
    let probe = Client::http1_unpooled().with_timeout(Duration::from_secs(2));
    let deadline = spawned + READY_TIMEOUT;
    loop {
        if let Some(status) = process.exited() {
            bail!("exited ({status})");
        }
        match probe_ready(&probe, admin_path) {
            Ok(admin) => return Ok((admin, spawned.elapsed())),
            Err(reason) if Instant::now() >= deadline => {
                bail!("not ready after {READY_TIMEOUT:?}: {reason}")
            }
            Err(_) => std::thread::sleep(READY_POLL),
        }
    }
}

/// The admin address, once the address file names it and `/ready` answers 200.
fn probe_ready(probe: &Client, admin_path: &Path) -> Result<SocketAddr, String> {
    let text = fs::read_to_string(admin_path).map_err(|e| e.to_string())?;
    let admin: SocketAddr = text
        .trim()
        .parse()
        .map_err(|_| format!("address {text:?}"))?;
    let ready = probe.get_checked(&format!("http://{admin}/ready"))?;
    if ready.status == 200 {
        Ok(admin)
    } else {
        Err(format!("/ready answered {}", ready.status))
    }
}

/// A fresh `<target>/bench/<label>-<pid>-<n>` for one proxy's config and logs.
fn run_dir(label: &str) -> anyhow::Result<PathBuf> {
    let dir =
        target_dir()
            .join("bench")
            .join(format!("{label}-{}-{}", std::process::id(), next_id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// A number unique within this process.
fn next_id() -> u32 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The last lines of the proxy's logs, and where the whole of them are.
fn log_tail(dir: &Path) -> String {
    let mut out = String::new();
    for name in ["stdout.log", "stderr.log"] {
        let text = fs::read_to_string(dir.join(name)).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        out.push_str(&format!("---- {name} ----\n"));
        for line in &lines[lines.len().saturating_sub(LOG_TAIL_LINES)..] {
            out.push_str(line);
            out.push('\n');
        }
    }
    out.push_str(&format!("(config and logs kept in {})", dir.display()));
    out
}
