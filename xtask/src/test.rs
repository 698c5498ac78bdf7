//! `cargo xtask test`: everything the end-to-end tests need, then the tests.

use crate::cmd::{self, cargo};

/// Installs Envoy, the Debian tools the tests drive, the toolchains of the guests in other
/// languages, the gRPC server's Python packages and the browser test's Chromium and npm
/// packages, builds the filters, then runs `cargo test --no-fail-fast <args>` on the default
/// members.
pub fn run(args: &[String]) -> anyhow::Result<()> {
    crate::envoy::install()?;
    crate::tools::install(crate::tools::TEST_TOOLS)?;
    crate::guests::install()?;
    crate::grpc_server::install()?;
    crate::browser::install()?;
    crate::filters::build()?;
    // Every test binary runs even after one fails, so a run reports all the failures.
    let mut command = cargo(["test", "--no-fail-fast"]);
    command.args(args);
    cmd::run(&mut command)
}
