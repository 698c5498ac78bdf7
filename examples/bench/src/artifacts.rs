//! What the bench runs: the filters (`--profile wasm`), a *release* `wasmesh`
//! and Envoy.
//!
//! The test rig's `wasmesh_bin()` builds a debug host, which is right for tests and wrong for a
//! benchmark, so the release build is done here, into the same target directory; then the
//! modules and the binary are kept in a [`Snapshot`], so the whole run measures the same files.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};
use wasmesh_tests::{build_filters, target_dir, workspace_root};

use crate::cost::chain::Filter;
use crate::snapshot::Snapshot;

/// Paths and versions of everything a target needs.
pub struct Artifacts {
    /// Each filter's module, as built when the run started.
    modules: Vec<(Filter, PathBuf)>,
    /// The abi-test guest (`tests/guests/abi-test`): the `memory` mode's buffering filter (its
    /// `body` case holds a whole body back).
    pub abi_test: PathBuf,
    /// `filters/ratelimit`: the `memory` mode's key flood.
    pub ratelimit: PathBuf,
    /// The release `wasmesh` binary, as built when the run started.
    pub wasmesh: PathBuf,
    /// `--baseline`'s `wasmesh`, copied when the run started.
    pub baseline: Option<PathBuf>,
    /// The Envoy binary.
    pub envoy: PathBuf,
    /// What `envoy --version` says, for the report.
    pub envoy_version: String,
    /// Holds the files above; removed at the end of the run.
    _snapshot: Snapshot,
}

impl Artifacts {
    /// Builds the filters and a release `wasmesh` (cargo makes both no-ops when up to date),
    /// finds Envoy, and keeps a copy of the `baseline` binary if there is one.
    pub fn prepare(baseline: Option<&Path>) -> anyhow::Result<Self> {
        let envoy = envoy_bin()?;
        let envoy_version = version_of(&envoy)?;
        eprintln!("building the filters (--profile wasm) and a release wasmesh ...");
        let filters = build_filters();
        let wasmesh = release_wasmesh()?;
        let snapshot = Snapshot::create()?;
        let modules = Filter::ALL
            .into_iter()
            .map(|filter| Ok((filter, snapshot.keep((filter.spec().wasm)(filters))?)))
            .collect::<anyhow::Result<_>>()?;
        Ok(Self {
            modules,
            abi_test: snapshot.keep(&filters.abi_test)?,
            ratelimit: snapshot.keep(&filters.ratelimit)?,
            wasmesh: snapshot.keep(&wasmesh)?,
            baseline: baseline
                .map(|bin| {
                    snapshot
                        .keep(bin)
                        .with_context(|| format!("--baseline {}", bin.display()))
                })
                .transpose()?,
            envoy,
            envoy_version,
            _snapshot: snapshot,
        })
    }

    /// `filter`'s module.
    pub fn module(&self, filter: Filter) -> &Path {
        let (_, path) = self
            .modules
            .iter()
            .find(|(f, _)| *f == filter)
            .expect("every filter is kept by prepare");
        path
    }
}

/// `cargo build --release -p wasmesh` and the binary's path under [`target_dir`].
///
/// `WASMESH_SKIP_BUILD=1` (as in the test rig) uses what is already built.
fn release_wasmesh() -> anyhow::Result<PathBuf> {
    let skip = std::env::var_os("WASMESH_SKIP_BUILD").is_some_and(|v| !v.is_empty() && v != "0");
    if !skip {
        // `CARGO` is the cargo that runs us (`cargo run`); fall back to the one on PATH.
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--release", "-p", "wasmesh", "--bin", "wasmesh"])
            .current_dir(workspace_root())
            .status()
            .context("cannot run cargo")?;
        if !status.success() {
            bail!("`cargo build --release -p wasmesh` failed ({status})");
        }
    }
    let bin = target_dir().join("release").join("wasmesh");
    if !bin.is_file() {
        bail!("{} is missing", bin.display());
    }
    Ok(bin)
}

/// `WASMESH_ENVOY`, else `<root>/.venv/bin/envoy` (the same lookup as the test rig, but an error
/// instead of a panic).
fn envoy_bin() -> anyhow::Result<PathBuf> {
    let bin = match std::env::var_os("WASMESH_ENVOY") {
        Some(bin) => PathBuf::from(bin),
        None => workspace_root().join(".venv").join("bin").join("envoy"),
    };
    if !bin.is_file() {
        bail!(
            "Envoy is not installed: run `cargo xtask envoy` (looked for {})",
            bin.display()
        );
    }
    Ok(bin)
}

/// The version field of `envoy --version` (`<sha>/1.40.0/Clean/RELEASE/BoringSSL`).
fn version_of(envoy: &PathBuf) -> anyhow::Result<String> {
    let output = Command::new(envoy)
        .arg("--version")
        .output()
        .with_context(|| format!("running {} --version", envoy.display()))?;
    let text = String::from_utf8_lossy(&output.stdout);
    Ok(text
        .split("version:")
        .nth(1)
        .unwrap_or(&text)
        .trim()
        .to_string())
}
