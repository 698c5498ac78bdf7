//! Debian tools the tests drive as real components (`promtool` checks our metrics exposition,
//! `etcd` is the registry the discovery tests register endpoints in, `dnsmasq` the DNS server
//! whose records the DNS discovery tests change): installed with apt when missing, so
//! `cargo xtask test` works on a fresh Debian machine.

use std::process::Command;

use anyhow::{bail, Context};

use crate::cmd::run;

/// (command the tests run, Debian package that provides it).
/// `dnsmasq-base` is the binary alone: the `dnsmasq` package would also start a system service.
const TOOLS: &[(&str, &str)] = &[
    ("promtool", "prometheus"),
    ("etcd", "etcd-server"),
    ("dnsmasq", "dnsmasq-base"),
];

/// Installs the package of every missing tool; fails (never skips) if that is not possible.
pub fn install() -> anyhow::Result<()> {
    let missing: Vec<&str> = TOOLS
        .iter()
        .filter(|(command, _)| !on_path(command))
        .map(|(_, package)| *package)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!("installing Debian packages: {}", missing.join(" "));
    if apt_install(&missing).is_err() {
        // A fresh machine may have no package lists yet.
        run(apt().arg("update")).context("apt-get update")?;
        apt_install(&missing)
            .with_context(|| format!("apt-get install {} (needs root)", missing.join(" ")))?;
    }
    for (command, package) in TOOLS {
        if !on_path(command) {
            bail!("`{command}` still missing after installing {package}");
        }
    }
    Ok(())
}

fn apt_install(packages: &[&str]) -> anyhow::Result<()> {
    run(apt()
        .args(["install", "-y", "--no-install-recommends"])
        .args(packages))
}

fn apt() -> Command {
    let mut command = Command::new("apt-get");
    command
        .env("DEBIAN_FRONTEND", "noninteractive")
        .args(["-q", "-o", "Dpkg::Use-Pty=0"]);
    command
}

/// Also looks in the `sbin` directories, where Debian puts daemons such as `dnsmasq` and which a
/// non-root `PATH` may lack (the tests look there too).
fn on_path(command: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!(
            "PATH=\"$PATH:/usr/sbin:/sbin\" command -v {command}"
        ))
        .output()
        .is_ok_and(|output| output.status.success())
}
