//! `cargo xtask test`: everything the end-to-end tests need, then the tests.

use crate::cmd::{self, cargo};

/// Installs Envoy and the Debian tools the tests drive, builds the filters, then runs `cargo test <args>` on the default members.
pub fn run(args: &[String]) -> anyhow::Result<()> {
    crate::envoy::install()?;
    crate::tools::install()?;
    crate::filters::build()?;
    let mut command = cargo(["test"]);
    command.args(args);
    cmd::run(&mut command)
}
