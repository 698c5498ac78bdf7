//! The rounds: every target measured once per round, rounds interleaved so slow drift in the
//! machine (other load, thermal, page cache) spreads over all targets instead of hitting one.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, bail};
use wasmesh_backend::Backend;
use wasmesh_tests::client::Client;

use crate::args::Args;
use crate::artifacts::Artifacts;
use crate::launch::RunningProxy;
use crate::machine::peak_rss_kib;
use crate::targets::{Target, REQUEST_HEADER, RESPONSE_HEADER};
use crate::wrk::{self, WrkResult};

/// One measurement of one target.
#[derive(Debug, Clone)]
pub struct Sample {
    /// What wrk measured.
    pub wrk: WrkResult,
    /// The proxy's peak RSS (`VmHWM`) after the run; `None` when going direct.
    pub peak_rss_kib: Option<u64>,
}

/// Every sample, by target, in round order.
pub type Results = BTreeMap<Target, Vec<Sample>>;

/// Runs `args.rounds` rounds over [`Target::ALL`]; each round starts one target later than the
/// previous one, so no target is always measured first (or right after the same neighbour).
pub fn run(args: &Args, wrk: &Path, artifacts: &Artifacts) -> anyhow::Result<Results> {
    // In-process, on its own current-thread runtime: a fast JSON echo (tens of thousands of
    // requests/s on one core), the same upstream the end-to-end tests use.
    let backend = Backend::start("bench");
    check_response(Target::Direct, &url_of(backend.addr))?;

    let mut results = Results::new();
    let count = Target::ALL.len();
    for round in 0..args.rounds as usize {
        for i in 0..count {
            let target = Target::ALL[(round + i) % count];
            let sample = measure(target, backend.addr, args, wrk, artifacts)?;
            eprintln!(
                "round {}/{} {:<18} {:>9.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms{}",
                round + 1,
                args.rounds,
                target.label(),
                sample.wrk.requests_per_sec,
                ms(sample.wrk.p50),
                ms(sample.wrk.p99),
                sample
                    .peak_rss_kib
                    .map(|kib| format!("  peak RSS {:.1} MiB", kib as f64 / 1024.0))
                    .unwrap_or_default(),
            );
            results.entry(target).or_default().push(sample);
        }
    }
    Ok(results)
}

/// Starts the target's proxy (fresh for every sample, so peak RSS is this run's), checks one
/// response, warms up, measures, then reads the peak RSS before the proxy is stopped.
fn measure(
    target: Target,
    backend: SocketAddr,
    args: &Args,
    wrk: &Path,
    artifacts: &Artifacts,
) -> anyhow::Result<Sample> {
    let Some(kind) = target.host() else {
        let direct = url_of(backend);
        wrk::run(wrk, &direct, args.connections, args.warmup)?;
        let result = wrk::run(wrk, &direct, args.connections, args.duration)?;
        return Ok(Sample {
            wrk: result,
            peak_rss_kib: None,
        });
    };
    let config = target.mesh_config(backend, &artifacts.headers_wasm);
    let proxy = RunningProxy::start(kind, &config, artifacts)?;
    let url = url_of(proxy.listener);
    check_response(target, &url)?;
    wrk::run(wrk, &url, args.connections, args.warmup)?;
    let result = wrk::run(wrk, &url, args.connections, args.duration)?;
    proxy.check_alive()?;
    let peak_rss_kib = peak_rss_kib(proxy.pid());
    Ok(Sample {
        wrk: result,
        peak_rss_kib,
    })
}

/// One request before the load: 200 from the backend, and the filter's two headers exactly when
/// the target has the filter — so a table line never measures a broken or filterless chain.
fn check_response(target: Target, url: &str) -> anyhow::Result<()> {
    let client = Client::http1_unpooled().with_timeout(Duration::from_secs(5));
    let response = client
        .get_checked(url)
        .map_err(|e| anyhow!("{}: GET {url}: {e}", target.label()))?;
    if response.status != 200 {
        bail!(
            "{}: GET {url} answered {}: {}",
            target.label(),
            response.status,
            response.text()
        );
    }
    let echo: serde_json::Value = serde_json::from_slice(&response.body)
        .map_err(|e| anyhow!("{}: not the backend's echo ({e})", target.label()))?;
    let request_header = echo["headers"][REQUEST_HEADER.0].as_str();
    let response_header = response.header(RESPONSE_HEADER.0);
    let expected = target
        .has_filter()
        .then_some((REQUEST_HEADER.1, RESPONSE_HEADER.1));
    let seen = match (request_header, response_header) {
        (Some(request), Some(response)) => Some((request, response)),
        (None, None) => None,
        partial => bail!("{}: the filter ran half-way: {partial:?}", target.label()),
    };
    if seen != expected {
        bail!(
            "{}: expected the filter's headers {expected:?}, saw {seen:?}",
            target.label()
        );
    }
    Ok(())
}

/// `http://<addr>/`: the small GET every target gets.
fn url_of(addr: SocketAddr) -> String {
    format!("http://{addr}/")
}

/// Milliseconds, for progress lines and the table.
pub fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}
