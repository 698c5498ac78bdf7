//! `cargo xtask bench`: what the bench needs (Envoy, the wasm target, wrk), then the release
//! `wasmesh-bench` with the caller's arguments.

use crate::cmd::{self, cargo};

/// Installs Envoy, the wasm target and wrk, then `cargo run --release -p wasmesh-bench -- <args>`.
pub fn run(args: &[String]) -> anyhow::Result<()> {
    crate::envoy::install()?;
    crate::toolchain::ensure_wasm_target()?;
    crate::tools::install(crate::tools::BENCH_TOOLS)?;
    let mut command = cargo(["run", "--release", "-p", "wasmesh-bench", "--"]);
    command.args(args);
    cmd::run(&mut command)
}
