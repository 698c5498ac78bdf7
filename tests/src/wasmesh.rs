//! Running our host, `wasmesh run`, exactly as a user would.

use std::ffi::OsStr;
use std::fs;
use std::process::Command;
use std::time::Duration;

use crate::artifacts::wasmesh_bin;
use crate::process::{run_dir, Supervised};
use crate::proxy::{Proxy, ProxyKind};

/// Compiling modules with Cranelift (debug host, cold cache) is the slow part of a start.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// Starts wasmesh.
pub struct Wasmesh;

impl Wasmesh {
    /// Starts `wasmesh run -c <config>` and waits until it is ready; panics (with wasmesh's
    /// logs) if it does not get there.
    pub fn start(config: serde_json::Value) -> Proxy {
        Self::try_start(config).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Starts `wasmesh run -c <config>`; `Err` with its logs if it exits or is not ready in time.
    pub fn try_start(config: serde_json::Value) -> Result<Proxy, String> {
        Self::try_start_with_env(config, &[])
    }

    /// As [`Wasmesh::try_start`], with extra environment variables for the process (e.g.
    /// `WASMESH_CACHE_DIR`, to test the compiled-module cache in a directory of the test's own).
    pub fn try_start_with_env(
        config: serde_json::Value,
        env: &[(&str, &OsStr)],
    ) -> Result<Proxy, String> {
        let dir = run_dir("wasmesh");
        let config_path = dir.join("wasmesh.json");
        let admin_path = dir.join("admin-address.txt");
        let text = serde_json::to_string_pretty(&config).expect("a JSON value serializes");
        fs::write(&config_path, text).expect("writing wasmesh.json");
        let mut command = Command::new(wasmesh_bin());
        command
            .arg("run")
            .arg("-c")
            .arg(&config_path)
            .arg("--admin-address-path")
            .arg(&admin_path)
            .env("RUST_BACKTRACE", "1")
            .current_dir(&dir);
        if std::env::var_os("RUST_LOG").is_none() {
            command.env("RUST_LOG", "info");
        }
        for (name, value) in env {
            command.env(name, value);
        }
        let process = Supervised::spawn("wasmesh", dir, command);
        Proxy::await_ready(ProxyKind::Wasmesh, process, &admin_path, READY_TIMEOUT)
    }
}
