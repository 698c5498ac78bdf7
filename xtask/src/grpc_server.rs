//! Installing the real gRPC server the gRPC tests call (`tests/grpc/server.py`): Python
//! `grpcio` and `grpcio-tools` (which compiles the test protos) from PyPI, into `<root>/.venv`
//! beside Envoy.

use std::path::Path;
use std::process::Command;

use anyhow::Context;

use crate::cmd::{root, run};

/// The grpcio release the tests' server runs on (grpcio-tools has the same version).
const GRPCIO_VERSION: &str = "1.85.1";

/// Installs grpcio and grpcio-tools unless the virtualenv's Python already imports both at
/// this version.
pub fn install() -> anyhow::Result<()> {
    let python = root().join(".venv").join("bin").join("python");
    if installed_version(&python).as_deref() == Some(GRPCIO_VERSION) {
        return Ok(());
    }
    run(Command::new(crate::envoy::venv_pip()?)
        .args(["install", "--quiet", "--disable-pip-version-check"])
        .arg(format!("grpcio=={GRPCIO_VERSION}"))
        .arg(format!("grpcio-tools=={GRPCIO_VERSION}")))
    .context("installing grpcio from PyPI (needs access to PyPI)")?;
    let version = installed_version(&python)
        .with_context(|| format!("{} cannot import grpc and grpc_tools", python.display()))?;
    eprintln!("grpcio {version} installed in {}", python.display());
    Ok(())
}

/// The grpcio version the Python imports, if it imports grpcio-tools too.
fn installed_version(python: &Path) -> Option<String> {
    crate::cmd::stdout_of(
        Command::new(python).args(["-c", "import grpc, grpc_tools; print(grpc.__version__)"]),
    )
}
