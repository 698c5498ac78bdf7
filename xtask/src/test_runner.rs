//! Runs test binaries several at a time and reports them one whole block each.
//!
//! Each binary keeps its own process, so what a binary sets up once for its tests (the filters'
//! and guests' builds, a runtime) is still shared by them, and its tests still run in parallel
//! within it as `cargo test` runs them. A binary's output is kept until it ends and then printed
//! in one piece, so blocks never interleave; the summary lists the slowest binaries (what a CI
//! run's length is made of) and every failure.

use std::collections::VecDeque;
use std::ffi::OsStr;
use std::fs::File;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use crate::cmd;

/// How many binaries run at once: one more than the cores, since most of their time is spent
/// waiting on timers and sockets rather than computing.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()) + 1
}

/// One test binary (or the doc tests' cargo command) to run.
pub struct TestBinary {
    /// How the report names it: `tests/grpc.rs (tests)`.
    label: String,
    command: Command,
}

impl TestBinary {
    /// A test executable cargo built, run from its package's directory as cargo runs it.
    pub fn executable(label: String, path: PathBuf, package_dir: PathBuf) -> Self {
        let mut command = Command::new(path);
        command.current_dir(package_dir);
        Self { label, command }
    }

    /// Any other command (the doc tests, which cargo compiles as it runs them).
    pub fn command(label: &str, command: Command) -> Self {
        Self {
            label: label.to_string(),
            command,
        }
    }

    /// Adds arguments for the test harness (a name filter, `--nocapture`).
    pub fn args<S: AsRef<OsStr>>(&mut self, args: &[S]) {
        self.command.args(args);
    }

    /// Sets an environment variable for the binary.
    pub fn env(&mut self, key: &str, value: impl AsRef<OsStr>) {
        self.command.env(key, value);
    }
}

/// How one binary ended.
struct Outcome {
    label: String,
    took: Duration,
    passed: bool,
}

/// Runs every binary, `jobs` at a time, printing each one's output as it ends; fails naming
/// every binary that failed.
pub fn run_all(binaries: Vec<TestBinary>, jobs: usize) -> anyhow::Result<()> {
    let logs = cmd::target_dir().join("xtask-test-output");
    std::fs::create_dir_all(&logs).with_context(|| format!("creating {}", logs.display()))?;
    let count = binaries.len();
    eprintln!("running {count} test binaries, {jobs} at a time");
    let queue = Mutex::new(binaries.into_iter().enumerate().collect::<VecDeque<_>>());
    let outcomes = Mutex::new(Vec::with_capacity(count));
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            scope.spawn(|| loop {
                let Some((index, binary)) = queue.lock().expect("queue lock").pop_front() else {
                    return;
                };
                let outcome = run_one(binary, logs.join(format!("{index}.log")));
                outcomes.lock().expect("outcomes lock").push(outcome);
            });
        }
    });
    let mut outcomes = outcomes.into_inner().expect("outcomes lock");
    outcomes.sort_by_key(|outcome| std::cmp::Reverse(outcome.took));
    eprintln!(
        "\n{count} test binaries in {:.0?}; the slowest:",
        started.elapsed()
    );
    for outcome in outcomes.iter().take(8) {
        eprintln!("  {:>7.1?}  {}", outcome.took, outcome.label);
    }
    let failed: Vec<&str> = outcomes
        .iter()
        .filter(|outcome| !outcome.passed)
        .map(|outcome| outcome.label.as_str())
        .collect();
    if !failed.is_empty() {
        bail!(
            "{} test binaries failed: {}",
            failed.len(),
            failed.join(", ")
        );
    }
    Ok(())
}

/// Runs one binary with its output in `log`, then prints the log as one block.
fn run_one(mut binary: TestBinary, log: PathBuf) -> Outcome {
    let started = Instant::now();
    let status = File::create(&log)
        .and_then(|file| {
            let stderr = file.try_clone()?;
            binary
                .command
                .stdin(Stdio::null())
                .stdout(file)
                .stderr(stderr)
                .status()
        })
        .map_err(|e| format!("cannot run {}: {e}", cmd::describe(&binary.command)));
    let took = started.elapsed();
    let output = std::fs::read_to_string(&log).unwrap_or_default();
    let passed = matches!(&status, Ok(status) if status.success());
    let verdict = match &status {
        Ok(status) if status.success() => "ok".to_string(),
        Ok(status) => format!("FAILED ({status})"),
        Err(e) => format!("FAILED: {e}"),
    };
    // One write per block, so concurrent ends never interleave.
    eprint!(
        "     Running {} ({})\n{output}<== {} {verdict} in {took:.1?}\n",
        binary.label,
        cmd::describe(&binary.command),
        binary.label
    );
    Outcome {
        label: binary.label,
        took,
        passed,
    }
}
