//! Debian tools the tests and the bench drive as real components, installed with apt when
//! missing, so `cargo xtask test` and `cargo xtask bench` work on a fresh Debian machine.

use std::process::Command;

use anyhow::{bail, Context};

use crate::cmd::run;
use crate::toolchain::on_path;

/// (command, Debian package that provides it): `promtool` checks our metrics exposition, `etcd`
/// is the registry the discovery tests register endpoints in, `dnsmasq` the DNS server whose
/// records the DNS discovery tests change. `dnsmasq-base` is the binary alone: the `dnsmasq`
/// package would also start a system service. `docker-registry` is the OCI registry the
/// `cargo xtask dist` images are pushed to.
pub const TEST_TOOLS: &[(&str, &str)] = &[
    ("promtool", "prometheus"),
    ("etcd", "etcd-server"),
    ("dnsmasq", "dnsmasq-base"),
    ("docker-registry", "docker-registry"),
];

/// The bench's load generator.
pub const BENCH_TOOLS: &[(&str, &str)] = &[("wrk", "wrk")];

/// Installs the package of every missing tool; fails (never skips) if that is not possible, with
/// one line naming what is missing and the command that would install it.
pub fn install(tools: &[(&str, &str)]) -> anyhow::Result<()> {
    let missing: Vec<&str> = tools
        .iter()
        .filter(|(command, _)| !on_path(command))
        .map(|(_, package)| *package)
        .collect();
    install_packages(&missing)?;
    for (command, package) in tools {
        if !on_path(command) {
            bail!("`{command}` still missing after installing {package}");
        }
    }
    Ok(())
}

/// Installs Debian `packages` with apt (root, or `sudo -n`); fails with one line naming them and
/// the command that would install them.
pub fn install_packages(missing: &[&str]) -> anyhow::Result<()> {
    if missing.is_empty() {
        return Ok(());
    }
    let packages = missing.join(" ");
    let by_hand = format!("apt-get install -y --no-install-recommends {packages}");
    if !on_path("apt-get") {
        bail!("missing Debian packages {packages} and there is no apt-get here: install them by hand ({by_hand} on Debian)");
    }
    let Some(sudo) = privilege() else {
        bail!("missing Debian packages {packages}, and installing them needs root: run `sudo {by_hand}`, then this command again");
    };
    eprintln!("installing Debian packages: {packages}");
    if apt_install(sudo, missing).is_err() {
        // A fresh machine may have no package lists yet.
        run(apt(sudo).arg("update")).context("apt-get update")?;
        apt_install(sudo, missing).with_context(|| format!("`{by_hand}` failed"))?;
    }
    Ok(())
}

/// How to run apt with root's rights: directly (`Some(false)`) when we are root, through
/// `sudo -n` (`Some(true)`) when that works without a password, else `None`.
fn privilege() -> Option<bool> {
    let uid = Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&uid.stdout).trim() == "0" {
        return Some(false);
    }
    let sudo_works = Command::new("sudo")
        .args(["-n", "true"])
        .output()
        .is_ok_and(|output| output.status.success());
    sudo_works.then_some(true)
}

fn apt_install(sudo: bool, packages: &[&str]) -> anyhow::Result<()> {
    run(apt(sudo)
        .args(["install", "-y", "--no-install-recommends"])
        .args(packages))
}

fn apt(sudo: bool) -> Command {
    let mut command = if sudo {
        let mut command = Command::new("sudo");
        command.args(["-n", "env", "DEBIAN_FRONTEND=noninteractive", "apt-get"]);
        command
    } else {
        let mut command = Command::new("apt-get");
        command.env("DEBIAN_FRONTEND", "noninteractive");
        command
    };
    command.args(["-q", "-o", "Dpkg::Use-Pty=0"]);
    command
}
