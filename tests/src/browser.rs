//! Real headless Chromium (Debian's `chromium`) driven by Playwright (`playwright-core` from
//! npm, pinned in `tests/browser/package-lock.json`): a script in `tests/browser/` does what a
//! user does in the page and prints what it saw as one JSON document; the test asserts on it.
//! `cargo xtask test` installs Chromium, Node.js and the npm packages; a missing piece fails
//! the test with what to run.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::workspace_root;

/// Where the browser scripts and their npm packages live.
pub fn browser_dir() -> PathBuf {
    workspace_root().join("tests").join("browser")
}

/// Runs `tests/browser/<script>` with `args` under Node.js (at most `limit`) and returns the
/// JSON document it printed last.
pub fn run_script(script: &str, args: &[&str], limit: Duration) -> Value {
    let dir = browser_dir();
    assert!(
        dir.join("node_modules").join("playwright-core").is_dir(),
        "playwright-core is not installed in {}: run `cargo xtask test` (or `npm ci` there)",
        dir.display()
    );
    let chromium = Path::new("/usr/bin/chromium");
    assert!(
        chromium.exists(),
        "{} is missing: run `cargo xtask test` (or apt-get install chromium)",
        chromium.display()
    );
    let output = Command::new("timeout")
        .arg(limit.as_secs().to_string())
        .arg("node")
        .arg(dir.join(script))
        .args(args)
        .current_dir(&dir)
        .output()
        .expect("running node (cargo xtask test installs it)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "node {script} failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last)
        .unwrap_or_else(|e| panic!("node {script} printed no JSON ({e}):\n{stdout}\n{stderr}"))
}
