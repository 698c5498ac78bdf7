//! The wasm32 crates: building them, and naming them for CI.
//!
//! They are the workspace members left out of `default-members` (root `Cargo.toml`), so adding a
//! filter or guest crate there is all it takes for xtask and CI to build and lint it.

use anyhow::{bail, Context};
use serde_json::Value;

use crate::cmd::{cargo, run};
use crate::toolchain::{ensure_wasm_target, WASM_TARGET};

/// `cargo build --profile wasm --target wasm32-wasip1 -p <each wasm crate>`, after adding the
/// target when the toolchain lacks it.
pub fn build() -> anyhow::Result<()> {
    ensure_wasm_target()?;
    let mut command = cargo(["build", "--profile", "wasm", "--target", WASM_TARGET]);
    command.args(package_args()?);
    run(&mut command)
}

/// Prints `-p <crate>` for each wasm crate, for `.ci/run`'s wasm32 clippy.
pub fn print_package_args() -> anyhow::Result<()> {
    println!("{}", package_args()?.join(" "));
    Ok(())
}

fn package_args() -> anyhow::Result<Vec<String>> {
    Ok(wasm_crates()?
        .into_iter()
        .flat_map(|name| ["-p".to_string(), name])
        .collect())
}

/// Names of the workspace members that are not default members.
pub fn wasm_crates() -> anyhow::Result<Vec<String>> {
    let output = cargo(["metadata", "--no-deps", "--format-version", "1"])
        .output()
        .context("running cargo metadata")?;
    if !output.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let metadata: Value =
        serde_json::from_slice(&output.stdout).context("parsing cargo metadata")?;
    let ids = |key: &str| -> Vec<String> {
        metadata[key]
            .as_array()
            .map(|ids| {
                ids.iter()
                    .filter_map(|id| id.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let defaults = ids("workspace_default_members");
    if defaults.is_empty() {
        bail!("cargo metadata lists no workspace_default_members (cargo too old?)");
    }
    let names: Vec<String> = ids("workspace_members")
        .into_iter()
        .filter(|id| !defaults.contains(id))
        .filter_map(|id| package_name(&metadata, &id))
        .collect();
    Ok(names)
}

fn package_name(metadata: &Value, id: &str) -> Option<String> {
    metadata["packages"]
        .as_array()?
        .iter()
        .find(|package| package["id"] == id)
        .and_then(|package| package["name"].as_str())
        .map(str::to_string)
}
