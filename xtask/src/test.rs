//! `cargo xtask test`: everything the end-to-end tests need, then the tests.
//!
//! The test binaries are built by one `cargo test --no-run` and then run several at a time
//! ([`crate::test_runner`]): most end-to-end tests spend their time waiting on timers (ejection
//! windows, reload polls, discovery intervals), so running one binary after another, as
//! `cargo test` does, left the machine idle for most of the run.

use std::path::PathBuf;

use anyhow::{bail, Context};

use crate::cmd::{self, cargo};
use crate::test_runner::{self, TestBinary};

/// `cargo test` flags that pick targets: with one of them the doc tests run only if `--doc` is
/// among them (cargo refuses `--doc` mixed with other target flags).
const TARGET_FLAGS: [&str; 11] = [
    "--lib",
    "--bin",
    "--bins",
    "--test",
    "--tests",
    "--example",
    "--examples",
    "--bench",
    "--benches",
    "--all-targets",
    "--doc",
];

/// Installs Envoy, the Debian tools the tests drive, the toolchains of the guests in other
/// languages, the gRPC server's Python packages and the browser test's Chromium and npm
/// packages, builds the filters, builds every test binary of the default members, then runs them
/// all (also after one fails, so a run reports every failure).
///
/// `args` are `cargo test`'s: the ones before `--` select what is built (`-p wasmesh-tests
/// --test grpc`), the ones after it go to each test binary (`--nocapture`, a name filter).
pub fn run(args: &[String]) -> anyhow::Result<()> {
    crate::envoy::install()?;
    crate::tools::install(crate::tools::TEST_TOOLS)?;
    crate::guests::install()?;
    crate::grpc_server::install()?;
    crate::browser::install()?;
    crate::filters::build()?;
    let (cargo_args, binary_args) = split_args(args);
    let built = build_test_binaries(&cargo_args)?;
    let mut jobs: Vec<TestBinary> = built.binaries;
    if runs_doc_tests(&cargo_args) {
        let mut doc = cargo(["test", "--doc"]);
        doc.args(cargo_args.iter().filter(|arg| arg.as_str() != "--doc"));
        doc.arg("--").args(&binary_args);
        jobs.push(TestBinary::command("doc tests", doc));
    }
    for job in &mut jobs {
        job.args(&binary_args);
        // The end-to-end tests run the `wasmesh` this build made, instead of building it again
        // as a plain `cargo build -p wasmesh` would, with other features for shared
        // dependencies (the dev-dependencies' ones): that rebuilt half the tree once more.
        if let (Some(bin), None) = (&built.wasmesh, std::env::var_os("WASMESH_BIN")) {
            job.env("WASMESH_BIN", bin);
        }
    }
    test_runner::run_all(jobs, test_runner::default_jobs())
}

/// `args` split at the first `--`.
fn split_args(args: &[String]) -> (Vec<String>, Vec<String>) {
    match args.iter().position(|arg| arg == "--") {
        Some(at) => (args[..at].to_vec(), args[at + 1..].to_vec()),
        None => (args.to_vec(), Vec::new()),
    }
}

/// Whether the selection includes the doc tests: no target flag, or `--doc` among them.
fn runs_doc_tests(cargo_args: &[String]) -> bool {
    let picks_targets = cargo_args
        .iter()
        .any(|arg| TARGET_FLAGS.contains(&arg.as_str()));
    !picks_targets || cargo_args.iter().any(|arg| arg == "--doc")
}

/// What `cargo test --no-run` built.
struct Built {
    /// Each test executable, in cargo's order.
    binaries: Vec<TestBinary>,
    /// The `wasmesh` binary, when the selection built it (the host package's integration test
    /// needs it, so a whole-workspace run always does).
    wasmesh: Option<PathBuf>,
}

/// Runs `cargo test --no-run <cargo_args>` and reads the executables off its JSON messages.
fn build_test_binaries(cargo_args: &[String]) -> anyhow::Result<Built> {
    if cargo_args.iter().any(|arg| arg == "--doc") {
        return Ok(Built {
            binaries: Vec::new(),
            wasmesh: None,
        });
    }
    let mut command = cargo([
        "test",
        "--no-run",
        "--message-format=json-render-diagnostics",
    ]);
    command.args(cargo_args);
    eprintln!("$ {}", cmd::describe(&command));
    // Compiler progress and errors go to stderr as usual; stdout carries the JSON.
    let output = command
        .stderr(std::process::Stdio::inherit())
        .output()
        .with_context(|| format!("cannot run {}", cmd::describe(&command)))?;
    if !output.status.success() {
        bail!("`{}` failed ({})", cmd::describe(&command), output.status);
    }
    let mut built = Built {
        binaries: Vec::new(),
        wasmesh: None,
    };
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if message["reason"] != "compiler-artifact" {
            continue;
        }
        let Some(executable) = message["executable"].as_str() else {
            continue;
        };
        let target = &message["target"];
        if message["profile"]["test"] == true {
            let manifest = message["manifest_path"].as_str().unwrap_or_default();
            let package_dir = PathBuf::from(manifest)
                .parent()
                .map(PathBuf::from)
                .unwrap_or_else(cmd::root);
            let source = target["src_path"].as_str().unwrap_or_default();
            let source = source
                .strip_prefix(&format!("{}/", package_dir.display()))
                .unwrap_or(source);
            let kind = if target["kind"][0] == "test" {
                ""
            } else {
                "unittests "
            };
            let label = format!("{kind}{source} ({})", short_package_dir(&package_dir));
            built.binaries.push(TestBinary::executable(
                label,
                PathBuf::from(executable),
                package_dir,
            ));
        } else if target["name"] == "wasmesh" && target["kind"][0] == "bin" {
            built.wasmesh = Some(PathBuf::from(executable));
        }
    }
    Ok(built)
}

/// `dir` relative to the workspace root (`tests`, `crates/wasmesh-host`).
fn short_package_dir(dir: &std::path::Path) -> String {
    let root = cmd::root();
    dir.strip_prefix(&root)
        .map(|rest| rest.display().to_string())
        .unwrap_or_else(|_| dir.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::{runs_doc_tests, split_args};

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|arg| arg.to_string()).collect()
    }

    #[test]
    fn arguments_after_the_separator_go_to_the_binaries() {
        let (cargo, binary) = split_args(&strings(&["-p", "wasmesh-tests", "--", "--nocapture"]));
        assert_eq!(cargo, strings(&["-p", "wasmesh-tests"]));
        assert_eq!(binary, strings(&["--nocapture"]));
        let (cargo, binary) = split_args(&strings(&["--", "grpc", "--", "x"]));
        assert!(cargo.is_empty());
        assert_eq!(binary, strings(&["grpc", "--", "x"]));
    }

    #[test]
    fn doc_tests_run_unless_other_targets_are_picked() {
        assert!(runs_doc_tests(&[]));
        assert!(runs_doc_tests(&strings(&["-p", "wasmesh-host"])));
        assert!(!runs_doc_tests(&strings(&["--test", "grpc"])));
        assert!(runs_doc_tests(&strings(&["--doc"])));
    }
}
