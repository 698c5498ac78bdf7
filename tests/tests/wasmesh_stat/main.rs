//! `wasmesh stat`, run as a user runs it (the debug binary), against a served fixed exposition
//! ([`served`]) and against real wasmesh and Envoy admins after real traffic ([`traffic`]):
//! both serve `/stats/prometheus`, so the same command reads either.

mod served;
mod traffic;

use std::process::{Command, Output};

use wasmesh_tests::wasmesh_bin;

/// `wasmesh stat <args>`, not yet run.
fn stat_command(args: &[&str]) -> Command {
    let mut command = Command::new(wasmesh_bin());
    command.arg("stat").args(args);
    command
}

/// `wasmesh stat <args>`, run to its end.
fn stat(args: &[&str]) -> Output {
    stat_command(args).output().expect("running wasmesh stat")
}

/// What it printed.
fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The table's data rows (after the header), split into cells.
fn rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .skip(1)
        .map(|l| l.split_whitespace().map(String::from).collect())
        .collect()
}
