//! `cargo xtask fuzz [--seconds N]`: builds the cargo-fuzz targets in `fuzz/` (adding the nightly
//! toolchain and cargo-fuzz when missing) and runs them all at once, each for N seconds on its
//! seeds and the corpus earlier runs grew (libFuzzer runs one input at a time, so each target
//! keeps a core to itself on a machine with as many cores as targets). A crash fails the task with one line naming the target and the input
//! libFuzzer saved; the fuzzer's own output goes to `fuzz/target/<target>.log`, and its last lines
//! are shown when a target fails.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context};

use crate::cmd::{describe, root, run};

/// The targets, in the order they run (`fuzz/fuzz_targets/<name>.rs`).
const TARGETS: &[&str] = &["http1_front", "hostcalls"];

/// cargo-fuzz options for both the build and each run (the same ones, so a run builds nothing).
/// No sanitizer: the code under test is safe Rust, whose bounds checks already turn a bad access
/// into a panic (an abort under libFuzzer), and ASan sees nothing of wasmtime's JIT code. ASan
/// works with both targets (`cargo +nightly fuzz run <target>` uses it) but, measured on 2 cores,
/// builds in 11 min instead of 7.5 and runs 3.5 to 4 times fewer inputs a second, which in a 60 s
/// CI budget is most of the search. 16 codegen units: the build is most of the task's time.
const FUZZ_OPTIONS: &[&str] = &["--sanitizer", "none", "--codegen-units", "16"];

/// libFuzzer's limit on one input, in seconds: far above any input's own bound (`http1_front`
/// gives one input a second, its liveness check ten), so only a real hang reaches it.
const INPUT_TIMEOUT_S: u32 = 30;

/// Builds every target, then fuzzes them all at once for `seconds`; fails naming every target
/// that crashed.
pub fn run_all(seconds: u64) -> anyhow::Result<()> {
    ensure_nightly()?;
    ensure_cargo_fuzz()?;
    let started = Instant::now();
    run(&mut cargo_fuzz("build", &[]))?;
    eprintln!("fuzz targets built in {}s", started.elapsed().as_secs());
    let running = TARGETS
        .iter()
        .map(|target| start(target, seconds))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let failures: Vec<String> = running
        .into_iter()
        .filter_map(|run| finish(run).err().map(|e| format!("{e:#}")))
        .collect();
    if !failures.is_empty() {
        bail!("{}", failures.join("; "));
    }
    Ok(())
}

/// A fuzz target's run in progress.
struct Running {
    target: &'static str,
    child: Child,
    log_path: PathBuf,
}

/// Starts fuzzing `target` for `seconds`, its output going to `fuzz/target/<target>.log`.
fn start(target: &'static str, seconds: u64) -> anyhow::Result<Running> {
    let fuzz = root().join("fuzz");
    let corpus = fuzz.join("corpus").join(target);
    std::fs::create_dir_all(&corpus).with_context(|| format!("creating {}", corpus.display()))?;
    let log_path = fuzz.join("target").join(format!("{target}.log"));
    let log =
        File::create(&log_path).with_context(|| format!("creating {}", log_path.display()))?;
    // New inputs go to the first directory (ignored by git); the seeds are only read.
    let seeds = fuzz.join("seeds").join(target);
    let dirs = [corpus.display().to_string(), seeds.display().to_string()];
    let mut command = cargo_fuzz("run", &[target]);
    command
        .args(&dirs)
        .arg("--")
        .arg(format!("-max_total_time={seconds}"))
        .arg(format!("-timeout={INPUT_TIMEOUT_S}"))
        .arg("-print_final_stats=1")
        .stdout(Stdio::from(log.try_clone()?))
        .stderr(Stdio::from(log));
    eprintln!("$ {}  (output: {})", describe(&command), log_path.display());
    let child = command
        .spawn()
        .with_context(|| format!("cannot run {}", describe(&command)))?;
    Ok(Running {
        target,
        child,
        log_path,
    })
}

/// Waits for a run to end; fails naming the crash input libFuzzer saved.
fn finish(run: Running) -> anyhow::Result<()> {
    let Running {
        target,
        mut child,
        log_path,
    } = run;
    let status = child
        .wait()
        .with_context(|| format!("waiting for the {target} fuzzer"))?;
    let output = std::fs::read_to_string(&log_path).unwrap_or_default();
    if status.success() {
        eprintln!("{target}: {}", summary(&output));
        return Ok(());
    }
    for line in crash_report(&output) {
        eprintln!("  {line}");
    }
    match artifact(&output) {
        Some(input) => bail!(
            "fuzz target {target} crashed; input saved at {} (replay: cd fuzz && cargo +nightly fuzz run {} {target} {})",
            input.display(),
            FUZZ_OPTIONS.join(" "),
            input.display()
        ),
        None => bail!(
            "fuzz target {target} failed ({status}) without saving an input; see {}",
            log_path.display()
        ),
    }
}

/// `cargo +nightly fuzz <subcommand> <FUZZ_OPTIONS> <args>` in `fuzz/`. Through rustup's `cargo`
/// (not `$CARGO`, which is this stable toolchain's cargo and knows no `+nightly`), and without
/// `CARGO_TARGET_DIR`, so the instrumented build stays in `fuzz/target` and never shares (or
/// locks) the workspace's.
fn cargo_fuzz(subcommand: &str, args: &[&str]) -> Command {
    let mut command = Command::new("cargo");
    command
        .args(["+nightly", "fuzz", subcommand])
        .args(FUZZ_OPTIONS)
        .args(args)
        .env_remove("CARGO_TARGET_DIR")
        .current_dir(root().join("fuzz"));
    command
}

/// Installs the nightly toolchain (cargo-fuzz needs its `-Z` flags) when rustup lacks it.
fn ensure_nightly() -> anyhow::Result<()> {
    let has_nightly = Command::new("rustup")
        .args(["run", "nightly", "rustc", "--version"])
        .output()
        .is_ok_and(|output| output.status.success());
    if has_nightly {
        return Ok(());
    }
    if !crate::toolchain::on_path("rustup") {
        bail!("fuzzing needs a nightly Rust toolchain and rustup is not on PATH: install Rust with rustup (https://rustup.rs)");
    }
    eprintln!("the nightly toolchain is missing; installing it");
    run(Command::new("rustup").args(["toolchain", "install", "nightly", "--profile", "minimal"]))
        .context("installing the nightly toolchain (needs the network)")
}

/// Installs cargo-fuzz from crates.io when `cargo fuzz` is not there.
fn ensure_cargo_fuzz() -> anyhow::Result<()> {
    let installed = Command::new("cargo")
        .args(["fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if installed {
        return Ok(());
    }
    eprintln!("cargo-fuzz is missing; installing it");
    run(Command::new("cargo").args(["install", "cargo-fuzz", "--locked"]))
        .context("installing cargo-fuzz (needs crates.io)")
}

/// libFuzzer's final figures: runs, executions per second, corpus growth, peak memory.
fn summary(output: &str) -> String {
    let stat = |name: &str| {
        output
            .lines()
            .find_map(|line| line.strip_prefix(&format!("stat::{name}:")))
            .map_or("?", str::trim)
            .to_string()
    };
    format!(
        "{} runs, {} per second, {} new inputs, peak {} MB",
        stat("number_of_executed_units"),
        stat("average_exec_per_sec"),
        stat("new_units_added"),
        stat("peak_rss_mb")
    )
}

/// What to show of a failed run: from the panic (or libFuzzer's error) on, 40 lines at most,
/// else the last 40 lines.
fn crash_report(output: &str) -> Vec<&str> {
    let lines: Vec<&str> = output.lines().collect();
    let start = lines
        .iter()
        .position(|line| line.contains("panicked at") || line.contains("ERROR: libFuzzer"))
        .unwrap_or(lines.len().saturating_sub(40));
    lines[start..].iter().take(40).copied().collect()
}

/// The input libFuzzer saved for a crash, leak, timeout or OOM ("Test unit written to PATH").
fn artifact(output: &str) -> Option<PathBuf> {
    let line = output.lines().rev().find_map(|line| {
        line.split_once("Test unit written to ")
            .map(|(_, path)| path.trim())
    })?;
    let path = Path::new(line);
    Some(if path.is_absolute() {
        path.to_path_buf()
    } else {
        root().join("fuzz").join(path)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_saved_input_and_the_final_stats() {
        let output = "==1== ERROR: libFuzzer: deadly signal\n\
             artifact_prefix='/w/fuzz/artifacts/hostcalls/'; Test unit written to /w/fuzz/artifacts/hostcalls/crash-ab12\n\
             stat::number_of_executed_units: 5230\nstat::average_exec_per_sec:     87\n";
        assert_eq!(
            artifact(output),
            Some(PathBuf::from("/w/fuzz/artifacts/hostcalls/crash-ab12"))
        );
        assert!(summary(output).starts_with("5230 runs, 87 per second"));
        assert_eq!(artifact("no crash here"), None);
        assert_eq!(
            crash_report(output)[0],
            "==1== ERROR: libFuzzer: deadly signal"
        );
    }
}
