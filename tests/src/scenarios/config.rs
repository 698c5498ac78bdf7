//! wasmesh's configuration handling: `wasmesh check` on good and bad files, hot reload through
//! `POST /reload`, and what a bad file or a bad request does to a running host.
//!
//! wasmesh only: Envoy's configuration is a different language, so there is nothing to compare.

use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};

use crate::artifacts::wasmesh_bin;
use crate::process::run_dir;
use crate::{build_filters, Cluster, Listener, MeshConfig, Plugin, Route};

/// How long `wasmesh check` may take: it compiles every module (Cranelift, debug host).
const CHECK_TIMEOUT: Duration = Duration::from_secs(60);

/// What `wasmesh check -c FILE` did.
#[derive(Debug)]
pub struct CheckOutcome {
    /// Whether it exited 0.
    pub success: bool,
    /// Its stdout then stderr.
    pub output: String,
    /// Where the checked file is (kept for a failing test to read).
    pub file: PathBuf,
}

impl CheckOutcome {
    /// Panics unless the check failed with a message containing every one of `needles`.
    pub fn assert_rejected(&self, needles: &[&str]) {
        assert!(
            !self.success,
            "`wasmesh check` accepted {}:\n{}",
            self.file.display(),
            self.output
        );
        for needle in needles {
            assert!(
                self.output.contains(needle),
                "`wasmesh check` failed as it should, but its message does not name {needle:?}:\n{}",
                self.output
            );
        }
    }
}

impl Drop for CheckOutcome {
    /// Removes the checked file's directory, unless the test is failing (then it is kept to read).
    fn drop(&mut self) {
        if !std::thread::panicking() {
            if let Some(dir) = self.file.parent() {
                let _ = fs::remove_dir_all(dir);
            }
        }
    }
}

/// Runs `wasmesh check -c <file holding text>`.
pub fn check_text(text: &str) -> CheckOutcome {
    let dir = run_dir("check");
    let file = dir.join("wasmesh.json");
    fs::write(&file, text).expect("writing the config to check");
    let mut child = Command::new(wasmesh_bin())
        .arg("check")
        .arg("-c")
        .arg(&file)
        .env("RUST_LOG", "info")
        .stdout(fs::File::create(dir.join("stdout.log")).expect("creating stdout.log"))
        .stderr(fs::File::create(dir.join("stderr.log")).expect("creating stderr.log"))
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run wasmesh check: {e}"));
    let status = crate::poll_until("`wasmesh check` to exit", CHECK_TIMEOUT, || {
        child
            .try_wait()
            .map_err(|e| e.to_string())?
            .ok_or_else(|| "still running".to_string())
    });
    let read = |name: &str| fs::read_to_string(dir.join(name)).unwrap_or_default();
    let output = format!("{}{}", read("stdout.log"), read("stderr.log"));
    CheckOutcome {
        success: status.success(),
        output,
        file,
    }
}

/// Runs `wasmesh check` on a JSON configuration.
pub fn check(config: &Value) -> CheckOutcome {
    check_text(&serde_json::to_string_pretty(config).expect("a JSON value serializes"))
}

/// A small valid setup: the `headers` filter (adding `x-gen: <gen>`) on listener `main`, routing
/// to one static cluster `backend` at `upstream`.
pub fn headers_config(upstream: std::net::SocketAddr, gen: u32) -> Value {
    let filters = build_filters();
    let plugin = Plugin::new("headers", &filters.headers)
        .configuration(json!({ "request": { "add": { "x-gen": gen.to_string() } } }));
    MeshConfig::new()
        .plugin(plugin)
        .cluster(Cluster::fixed("backend", [upstream]))
        .listener(
            Listener::new("main")
                .filter("headers")
                .route(Route::prefix("/", "backend")),
        )
        .to_wasmesh_json()
}

/// The `x-gen` request header as the backend saw it (set by [`headers_config`]): which
/// generation served a request.
pub fn served_generation(url: &str) -> Result<String, String> {
    let response = crate::client::shared().get_checked(url)?;
    if response.status != 200 {
        return Err(format!("status {}: {}", response.status, response.text()));
    }
    response
        .echo()
        .header("x-gen")
        .map(str::to_string)
        .ok_or_else(|| "no x-gen header upstream".to_string())
}
