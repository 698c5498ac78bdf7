//! The things a test runs: the wasm filters, the `wasmesh` binary and Envoy.
//!
//! The filters and `wasmesh` are built by calling cargo, once per test process, so a plain
//! `cargo test` always runs the current sources (cargo makes it a no-op when nothing changed).
//! Envoy is installed by `cargo xtask envoy`; a missing Envoy is a loud failure, never a skip.
//!
//! `WASMESH_SKIP_BUILD=1` uses what is already built instead (e.g. while a crate the test does
//! not need is mid-edit); a missing artifact is still a failure.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::paths::{target_dir, workspace_root};

/// The wasm32 crates the tests load, in the order `cargo build -p` receives them.
const WASM_CRATES: [&str; 10] = [
    "wasmesh-filter-headers",
    "wasmesh-filter-ratelimit",
    "wasmesh-guest-abi-test",
    "wasmesh-guest-misbehave",
    "wasmesh-filter-lb",
    "wasmesh-filter-metrics",
    "wasmesh-filter-failover",
    "wasmesh-filter-discovery",
    "wasmesh-filter-authz",
    "wasmesh-guest-tcp-test",
];

/// Paths of the built `.wasm` modules.
#[derive(Debug, Clone)]
pub struct FilterSet {
    /// `filters/headers`: adds, sets and removes request/response headers.
    pub headers: PathBuf,
    /// `filters/ratelimit`.
    pub ratelimit: PathBuf,
    /// `filters/lb`: picks the endpoint of each request for an `original_dst` cluster.
    pub lb: PathBuf,
    /// `filters/metrics`: golden metrics, trace headers and the access log.
    pub metrics: PathBuf,
    /// `filters/failover`: outlier ejection and retries on another endpoint.
    pub failover: PathBuf,
    /// `filters/discovery`: polls registries and publishes endpoint sets to shared data.
    pub discovery: PathBuf,
    /// `filters/authz`: allows or denies requests by client identity, network and request.
    pub authz: PathBuf,
    /// `tests/guests/abi-test`: a guest that exercises the ABI for host tests.
    pub abi_test: PathBuf,
    /// `tests/guests/misbehave`: a guest that traps, loops, exhausts memory or passes bad
    /// pointers on request, for isolation tests.
    pub misbehave: PathBuf,
    /// `tests/guests/tcp-test`: a network filter for the TCP proxy tests.
    pub tcp_test: PathBuf,
}

/// Builds the wasm filters with `--profile wasm` (once per process) and returns their paths.
///
/// Panics with cargo's output if the build fails.
pub fn build_filters() -> &'static FilterSet {
    static FILTERS: OnceLock<FilterSet> = OnceLock::new();
    FILTERS.get_or_init(|| {
        let mut args = vec!["build", "--profile", "wasm", "--target", "wasm32-wasip1"];
        for krate in WASM_CRATES {
            args.extend(["-p", krate]);
        }
        if !skip_build() {
            cargo(&args);
        }
        let dir = target_dir().join("wasm32-wasip1").join("wasm");
        let path = |krate: &str| {
            let path = dir.join(format!("{}.wasm", krate.replace('-', "_")));
            assert!(
                path.is_file(),
                "cargo built {krate} but {} is missing",
                path.display()
            );
            path
        };
        FilterSet {
            headers: path(WASM_CRATES[0]),
            ratelimit: path(WASM_CRATES[1]),
            abi_test: path(WASM_CRATES[2]),
            misbehave: path(WASM_CRATES[3]),
            lb: path(WASM_CRATES[4]),
            metrics: path(WASM_CRATES[5]),
            failover: path(WASM_CRATES[6]),
            discovery: path(WASM_CRATES[7]),
            authz: path(WASM_CRATES[8]),
            tcp_test: path(WASM_CRATES[9]),
        }
    })
}

/// Builds `wasmesh` (debug, like the tests; once per process) and returns the binary's path.
///
/// `WASMESH_BIN` overrides it, to test a binary built elsewhere (e.g. a release build).
pub fn wasmesh_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = std::env::var_os("WASMESH_BIN") {
            return PathBuf::from(bin);
        }
        if !skip_build() {
            cargo(&["build", "-p", "wasmesh", "--bin", "wasmesh"]);
        }
        let bin = target_dir().join("debug").join("wasmesh");
        assert!(bin.is_file(), "{} is missing", bin.display());
        bin
    })
}

/// The Envoy binary: `WASMESH_ENVOY`, else `<root>/.venv/bin/envoy`.
///
/// Panics if it is not there: an end-to-end test that silently skipped Envoy would prove nothing.
pub fn envoy_bin() -> PathBuf {
    let bin = match std::env::var_os("WASMESH_ENVOY") {
        Some(bin) => PathBuf::from(bin),
        None => workspace_root().join(".venv").join("bin").join("envoy"),
    };
    assert!(
        bin.is_file(),
        "Envoy not installed: run `cargo xtask envoy` (or `cargo xtask test`); looked for {}",
        bin.display()
    );
    bin
}

/// Whether `WASMESH_SKIP_BUILD` asks to use existing artifacts.
pub(crate) fn skip_build() -> bool {
    std::env::var_os("WASMESH_SKIP_BUILD").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Runs cargo in the workspace root, panicking with its output on failure.
fn cargo(args: &[&str]) {
    // `CARGO` is the cargo running this test; fall back to the one on PATH.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(args)
        .current_dir(workspace_root())
        .output()
        .unwrap_or_else(|e| panic!("cannot run cargo {args:?}: {e}"));
    if !output.status.success() {
        panic!(
            "`cargo {}` failed ({}):\n{}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// Lowercase hex sha256 of `bytes` (how digests are written in configs, layouts and registries).
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
