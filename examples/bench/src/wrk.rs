//! Driving `wrk` and reading its `--latency` report.
//!
//! wrk is the load generator the project's anchor figures were taken with, so the
//! bench uses it too rather than a Rust client that would compete differently for the CPU.
//! One exception: the `tls` mode's handshake load (`tls/handshaker.rs`), where wrk's own
//! handshakes cost more CPU than the proxies' and wrk was the limit.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{anyhow, bail, Context};

use crate::args::Load;
use crate::process::Guarded;

/// wrk threads: one, as in the anchor; a 2-core machine has no room for more beside the proxy.
pub const THREADS: u32 = 1;

/// What one wrk run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct WrkResult {
    /// `Requests/sec:`.
    pub requests_per_sec: f64,
    /// 50th percentile latency.
    pub p50: Duration,
    /// 99th percentile latency.
    pub p99: Duration,
    /// Completed requests.
    pub requests: u64,
    /// Socket errors (connect, read, write, timeout) plus non-2xx/3xx responses.
    pub errors: u64,
}

/// The `wrk` on `PATH`; an error that says how to install it otherwise.
pub fn find() -> anyhow::Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("wrk"))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| anyhow!("wrk not found on PATH: install it with `apt-get install wrk`"))
}

/// How wrk is run: one thread on any core (every mode but `scale`), or several threads kept
/// to some cores, apart from the proxy's.
#[derive(Debug, Clone)]
pub struct Generator<'a> {
    /// The wrk binary.
    pub wrk: &'a Path,
    /// `-t`.
    pub threads: u32,
    /// A `taskset` CPU list wrk runs on; `None`: wherever the bench runs.
    pub cpus: Option<String>,
}

impl<'a> Generator<'a> {
    /// One thread, unpinned: the load the project's anchor figures were taken with.
    pub fn single(wrk: &'a Path) -> Self {
        Self {
            wrk,
            threads: THREADS,
            cpus: None,
        }
    }
}

/// One wrk run with [`Generator::single`].
fn run(
    wrk: &Path,
    url: &str,
    headers: &[&str],
    load: &Load,
    duration: Duration,
) -> anyhow::Result<WrkResult> {
    let generator = Generator::single(wrk);
    Ok(run_on(&generator, url, headers, load, duration)?.0)
}

/// `wrk -t<threads> -c<connections> -d<duration> --latency [-H header]… [-s pace.lua] <url>`,
/// under `taskset -c <cpus>` when the generator is pinned: what it measured, and the CPU clock
/// ticks wrk itself spent (read from `/proc` every few milliseconds while it ran; `None` if it
/// could not be read), which tell whether the load generator was the limit.
fn run_on(
    generator: &Generator,
    url: &str,
    headers: &[&str],
    load: &Load,
    duration: Duration,
) -> anyhow::Result<(WrkResult, Option<u64>)> {
    let mut command = match &generator.cpus {
        Some(cpus) => {
            let mut taskset = Command::new("taskset");
            taskset.args(["-c", cpus]).arg(generator.wrk);
            taskset
        }
        None => Command::new(generator.wrk),
    };
    command
        .arg(format!("-t{}", generator.threads))
        .arg(format!("-c{}", load.connections.max(generator.threads)))
        .arg(format!("-d{}s", duration.as_secs().max(1)))
        .arg("--latency");
    for header in headers {
        command.arg("-H").arg(header);
    }
    if let Some(ms) = load.pace_ms {
        command.arg("-s").arg(pace_script(ms)?);
    }
    command.arg(url).stdin(Stdio::null()).stdout(Stdio::piped());
    let (process, stdout) = Guarded::spawn(command)?;
    let mut stdout = stdout.ok_or_else(|| anyhow!("wrk's stdout was not piped"))?;
    // wrk prints its report as it exits: read it on the side while its CPU time is sampled
    // here (once it has exited and been reaped, `/proc` no longer knows it).
    let reader = std::thread::spawn(move || {
        let mut output = String::new();
        stdout.read_to_string(&mut output).map(|_| output)
    });
    let own = crate::cpu::Source::Process(process.pid());
    let mut ticks = None;
    let status = loop {
        ticks = own.ticks().or(ticks);
        if let Some(status) = process.exited() {
            break status;
        }
        std::thread::sleep(CPU_SAMPLE);
    };
    let output = reader
        .join()
        .map_err(|_| anyhow!("reading wrk's output panicked"))?
        .context("reading wrk's output")?;
    if !status.success() {
        bail!("wrk {url} failed ({status}):\n{output}");
    }
    let result = parse(&output).with_context(|| format!("reading wrk's report:\n{output}"))?;
    Ok((result, ticks))
}

/// How often wrk's CPU time is read while it runs: what is lost at its end is at most this.
const CPU_SAMPLE: Duration = Duration::from_millis(10);

/// A wrk script whose `delay()` makes every connection wait `ms` before each request.
fn pace_script(ms: u32) -> anyhow::Result<PathBuf> {
    let path = std::env::temp_dir().join(format!("wasmesh-bench-pace-{ms}.lua"));
    std::fs::write(&path, format!("function delay()\n  return {ms}\nend\n"))
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// The warm-up (thrown away), then the measurement, both `wrk … url` with `load`'s
/// connections. `at_start` runs between the two, right before the measurement starts, so a
/// mode can read counters that must cover the measurement only; its value is returned too.
pub fn warm_up_then_measure<S>(
    wrk: &Path,
    url: &str,
    load: &Load,
    at_start: impl FnOnce() -> S,
) -> anyhow::Result<(S, WrkResult)> {
    warm_up_then_measure_with(wrk, url, &[], load, at_start)
}

/// [`warm_up_then_measure`] with request `headers` (`Connection: close`: a new connection,
/// and with TLS a new handshake, per request).
pub fn warm_up_then_measure_with<S>(
    wrk: &Path,
    url: &str,
    headers: &[&str],
    load: &Load,
    at_start: impl FnOnce() -> S,
) -> anyhow::Result<(S, WrkResult)> {
    run(wrk, url, headers, load, load.warmup)?;
    let started = at_start();
    let result = run(wrk, url, headers, load, load.duration)?;
    Ok((started, result))
}

/// [`warm_up_then_measure_with`] with `generator`'s threads and cores, returning too the CPU
/// clock ticks wrk spent in the measured run.
pub fn warm_up_then_measure_on<S>(
    generator: &Generator,
    url: &str,
    load: &Load,
    at_start: impl FnOnce() -> S,
) -> anyhow::Result<(S, WrkResult, Option<u64>)> {
    run_on(generator, url, &[], load, load.warmup)?;
    let started = at_start();
    let (result, ticks) = run_on(generator, url, &[], load, load.duration)?;
    Ok((started, result, ticks))
}

/// Reads the figures out of wrk's report.
pub fn parse(output: &str) -> anyhow::Result<WrkResult> {
    let mut requests_per_sec = None;
    let mut p50 = None;
    let mut p99 = None;
    let mut requests = None;
    let mut errors = 0;
    for line in output.lines().map(str::trim) {
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("Requests/sec:"), Some(value)) => requests_per_sec = Some(value.parse()?),
            (Some("50%"), Some(value)) => p50 = Some(parse_latency(value)?),
            (Some("99%"), Some(value)) => p99 = Some(parse_latency(value)?),
            (Some(count), Some("requests")) => requests = Some(count.parse()?),
            (Some("Socket"), Some("errors:")) => {
                // `Socket errors: connect 0, read 0, write 0, timeout 0`
                for count in line
                    .split(',')
                    .filter_map(|part| part.split_whitespace().last())
                {
                    errors += count.parse::<u64>()?;
                }
            }
            (Some("Non-2xx"), _) => {
                let count = line.split_whitespace().last().unwrap_or_default();
                errors += count.parse::<u64>()?;
            }
            _ => {}
        }
    }
    Ok(WrkResult {
        requests_per_sec: requests_per_sec.ok_or_else(|| anyhow!("no Requests/sec line"))?,
        p50: p50.ok_or_else(|| anyhow!("no 50% line (was --latency given?)"))?,
        p99: p99.ok_or_else(|| anyhow!("no 99% line (was --latency given?)"))?,
        requests: requests.ok_or_else(|| anyhow!("no `N requests in` line"))?,
        errors,
    })
}

/// wrk's latency format: a number and one of `us`, `ms`, `s`, `m`, `h`.
fn parse_latency(text: &str) -> anyhow::Result<Duration> {
    let at = text
        .find(|c: char| c.is_ascii_alphabetic())
        .ok_or_else(|| anyhow!("latency {text:?} has no unit"))?;
    let (number, unit) = text.split_at(at);
    let value: f64 = number
        .parse()
        .with_context(|| format!("latency {text:?}"))?;
    let nanos_per_unit = match unit {
        "us" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        "m" => 60e9,
        "h" => 3600e9,
        _ => bail!("latency {text:?}: unknown unit {unit:?}"),
    };
    // Rounded to whole nanoseconds, so `2.65ms` is exactly 2 650 µs.
    Ok(Duration::from_nanos((value * nanos_per_unit).round() as u64))
}

#[cfg(test)]
mod tests;
