//! The Rust target the filters are built for, added when the toolchain lacks it.
//!
//! `rust-toolchain.toml` names `wasm32-wasip1`, but rustup adds a toolchain file's targets only
//! when it installs the toolchain: a machine that already had `stable` gets no target, and every
//! wasm build fails with `can't find crate for std`. So each task that builds a filter calls
//! [`ensure_wasm_target`] first.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{bail, Context};

use crate::cmd::{root, run};

/// The target every filter and test guest is built for.
pub const WASM_TARGET: &str = "wasm32-wasip1";

/// Adds [`WASM_TARGET`] with `rustup target add` when the active toolchain does not have it;
/// fails with one line saying what to install when that is not possible.
pub fn ensure_wasm_target() -> anyhow::Result<()> {
    let sysroot = sysroot()?;
    let target_lib = sysroot.join("lib").join("rustlib").join(WASM_TARGET);
    if target_lib.is_dir() {
        return Ok(());
    }
    if !on_path("rustup") {
        bail!(
            "the Rust target {WASM_TARGET} is missing from {} and rustup is not on PATH: \
             install Rust with rustup (https://rustup.rs), or add {WASM_TARGET} to this toolchain",
            sysroot.display()
        );
    }
    eprintln!("the Rust target {WASM_TARGET} is missing; adding it");
    // From the root, so rustup acts on the toolchain `rust-toolchain.toml` selects.
    run(Command::new("rustup")
        .args(["target", "add", WASM_TARGET])
        .current_dir(root()))
    .with_context(|| format!("adding the Rust target {WASM_TARGET} (needs the network)"))?;
    if !target_lib.is_dir() {
        bail!(
            "`rustup target add {WASM_TARGET}` succeeded but {} is still missing",
            target_lib.display()
        );
    }
    Ok(())
}

/// `rustc --print sysroot` of the toolchain cargo runs with.
fn sysroot() -> anyhow::Result<PathBuf> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let output = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .current_dir(root())
        .output()
        .context("running `rustc --print sysroot`")?;
    if !output.status.success() {
        bail!(
            "`rustc --print sysroot` failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(PathBuf::from(
        String::from_utf8_lossy(&output.stdout).trim(),
    ))
}

/// Whether `command` is found on `PATH` (also in the `sbin` directories, where Debian puts
/// daemons such as `dnsmasq` and which a non-root `PATH` may lack; the tests look there too).
pub fn on_path(command: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!(
            "PATH=\"$PATH:/usr/sbin:/sbin\" command -v {command}"
        ))
        .output()
        .is_ok_and(|output| output.status.success())
}
