//! Starting a proxy for one measurement, and knowing its pid (for peak RSS).
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
use serde_json::Value;
use wasmesh_tests::client::Client;
use wasmesh_tests::{target_dir, MeshConfig, ProxyKind};

use crate::artifacts::Artifacts;
use crate::process::Guarded;

/// Envoy compiles the module with V8 at start; room for that on a loaded 2-core machine.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// How often readiness is probed.
const READY_POLL: Duration = Duration::from_millis(20);
/// How much of a failed proxy's log an error shows.
const LOG_TAIL_LINES: usize = 40;

/// A proxy that is ready to serve; killed when dropped.
pub struct RunningProxy {
    /// Which host.
    pub kind: ProxyKind,
    /// Where listener `main` listens.
    pub listener: SocketAddr,
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
        let dir = run_dir(kind.name())?;
        let admin_path = dir.join("admin-address.txt");
        let mut command = match kind {
            ProxyKind::Envoy => envoy_command(config, artifacts, &dir, &admin_path)?,
            ProxyKind::Wasmesh => wasmesh_command(config, artifacts, &dir, &admin_path)?,
        };
        command
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(File::create(dir.join("stdout.log"))?)
            .stderr(File::create(dir.join("stderr.log"))?);
        let (process, _) = Guarded::spawn(command)?;
        let listener = await_ready(&process, &admin_path)
            .map_err(|e| anyhow!("{} did not get ready: {e}\n{}", kind.name(), log_tail(&dir)))?;
        Ok(Self {
            kind,
            listener,
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
    artifacts: &Artifacts,
    dir: &Path,
    admin_path: &Path,
) -> anyhow::Result<Command> {
    let json = dir.join("wasmesh.json");
    let text = serde_json::to_string_pretty(&config.to_wasmesh_json())?;
    fs::write(&json, text).context("writing wasmesh.json")?;
    let mut command = Command::new(&artifacts.wasmesh);
    command
        .arg("run")
        .arg("-c")
        .arg(&json)
        .arg("--admin-address-path")
        .arg(admin_path)
        .env("RUST_LOG", "warn");
    Ok(command)
}

/// Polls until the admin answers `/ready` with 200, then reads listener `main`'s address.
fn await_ready(process: &Guarded, admin_path: &Path) -> anyhow::Result<SocketAddr> {
    let probe = Client::http1_unpooled().with_timeout(Duration::from_secs(2));
    let deadline = Instant::now() + READY_TIMEOUT;
    let admin = loop {
        if let Some(status) = process.exited() {
            bail!("exited ({status})");
        }
        match probe_ready(&probe, admin_path) {
            Ok(admin) => break admin,
            Err(reason) if Instant::now() >= deadline => {
                bail!("not ready after {READY_TIMEOUT:?}: {reason}")
            }
            Err(_) => std::thread::sleep(READY_POLL),
        }
    };
    let response = probe
        .get_checked(&format!("http://{admin}/listeners?format=json"))
        .map_err(|e| anyhow!("GET /listeners: {e}"))?;
    let doc: Value = serde_json::from_slice(&response.body)
        .with_context(|| format!("/listeners?format=json is not JSON: {}", response.text()))?;
    main_listener(&doc).context("reading /listeners?format=json")
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

/// Listener `main` in Envoy's `/listeners?format=json` (which wasmesh serves too).
fn main_listener(doc: &Value) -> anyhow::Result<SocketAddr> {
    let statuses = doc["listener_statuses"]
        .as_array()
        .ok_or_else(|| anyhow!("no listener_statuses"))?;
    let main = statuses
        .iter()
        .find(|status| status["name"] == "main")
        .ok_or_else(|| anyhow!("no listener named main"))?;
    let socket = &main["local_address"]["socket_address"];
    let ip = socket["address"]
        .as_str()
        .ok_or_else(|| anyhow!("no address"))?
        .parse()?;
    let port = socket["port_value"]
        .as_u64()
        .and_then(|port| u16::try_from(port).ok())
        .ok_or_else(|| anyhow!("no port_value"))?;
    Ok(SocketAddr::new(ip, port))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_main_listener() {
        let doc = serde_json::json!({"listener_statuses": [
            {"name": "admin", "local_address": {"socket_address": {"address": "127.0.0.1", "port_value": 1}}},
            {"name": "main", "local_address": {"socket_address": {"address": "127.0.0.1", "port_value": 4242}}},
        ]});
        assert_eq!(
            main_listener(&doc).unwrap(),
            "127.0.0.1:4242".parse().unwrap()
        );
    }
}
