//! Command-line options: the load options shared by the wrk modes, and the optional `lb` and
//! `memory` subcommands (without one, the proxy-cost benchmark runs, as it always did).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::cost::chain::Chain;
use crate::memory::scenarios::Scenario;

/// Direct vs Envoy vs wasmesh (without and with a filter chain, `metrics,failover,lb` by default), one
/// worker each, under `wrk -t1`; medians over interleaved rounds. `lb`: the `lb` filter's
/// policies against a slow endpoint.
#[derive(Parser, Debug)]
#[command(version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// Which benchmark; none: the proxy-cost benchmark.
    #[command(subcommand)]
    pub mode: Option<Mode>,
    /// The load of the proxy-cost benchmark.
    #[command(flatten)]
    pub load: Load,
    /// The filter chain of the proxy-cost benchmark, in request order, comma-separated:
    /// `headers`, `metrics`, `failover` (needs `lb` after it), `lb`. The default is the
    /// issue's chain.
    #[arg(long, default_value = "metrics,failover,lb")]
    pub chain: Chain,
    /// Also measure both hosts with the chain's filters added one by one (its steps), and
    /// print what each filter adds per request.
    #[arg(long)]
    pub per_filter: bool,
    /// Another `wasmesh` binary (e.g. a release build of an older commit) measured in the same
    /// rounds, without and with the chain, so a change's cost is a ratio from one run.
    #[arg(long, value_name = "WASMESH_BINARY")]
    pub baseline: Option<PathBuf>,
}

/// The benchmarks besides the default one.
#[derive(Subcommand, Debug)]
pub enum Mode {
    /// Load balancing: `round_robin` vs `peak_ewma` (the `lb` filter) over three backends, one
    /// of them slow, in wasmesh and in Envoy; requests/s, p50, p99 and the slow one's share.
    Lb(LbArgs),
    /// Memory under hostile clients: each proxy's RSS before, at its peak and 2 s after a
    /// 500 MiB upload through a buffering filter, 100 clients that never read, an h2 client
    /// that grants no window, and a flood of fresh rate-limit keys; and what the clients saw.
    Memory(MemoryArgs),
    /// TLS: each host terminating TLS 1.3 with the same certificate, requests/s and p99 over
    /// keep-alive connections, and handshakes/s with a new connection per request.
    Tls(TlsArgs),
    /// TCP: each host as a TCP proxy (`tcp_proxy`) without and with a network filter, against
    /// the bench's own relay, under keep-alive HTTP/1.1 passing through as bytes.
    Tcp(TcpArgs),
    /// Scaling across cores: each host at 1, 2, 4, … workers (Envoy's `--concurrency`), without
    /// and with the chain, the workers on cores of their own and the load on others; requests/s,
    /// p50, p99, CPU per request, how busy the proxy, wrk and the backend were, and the scaling
    /// efficiency.
    Scale(ScaleArgs),
}

/// Options of `wasmesh-bench scale`.
#[derive(Args, Debug, Clone)]
pub struct ScaleArgs {
    /// The load; `--connections` is per worker here (wrk opens it times the worker count).
    #[command(flatten)]
    pub load: Load,
    /// Worker counts, comma-separated; by default 1, 2, 4, … up to the cores left after two
    /// for the load (1,2 on a machine too small for that, sharing cores: the report says so).
    #[arg(long, value_delimiter = ',', value_parser = clap::value_parser!(usize))]
    pub workers: Option<Vec<usize>>,
    /// The filter chain, as in the proxy-cost benchmark.
    #[arg(long, default_value = "metrics,failover,lb")]
    pub chain: Chain,
    /// wrk's threads; by default one per core wrk gets.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub wrk_threads: Option<u32>,
    /// The backend's threads; by default one per core the backend gets.
    #[arg(long, value_parser = clap::value_parser!(usize))]
    pub backend_threads: Option<usize>,
    /// Another `wasmesh` binary measured in the same rounds at every worker count, without
    /// and with the chain: before and after, from one run.
    #[arg(long, value_name = "WASMESH_BINARY")]
    pub baseline: Option<PathBuf>,
}

/// Options of `wasmesh-bench tls`.
#[derive(Args, Debug, Clone)]
pub struct TlsArgs {
    /// The load.
    #[command(flatten)]
    pub load: Load,
}

/// Options of `wasmesh-bench tcp`.
#[derive(Args, Debug, Clone)]
pub struct TcpArgs {
    /// The load.
    #[command(flatten)]
    pub load: Load,
}

/// Options of `wasmesh-bench memory`: the defaults are the scenarios.
#[derive(Args, Debug, Clone)]
pub struct MemoryArgs {
    /// Which scenarios, comma-separated, in this order.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "upload,stalled,h2-window,key-flood"
    )]
    pub scenarios: Vec<Scenario>,
    /// MiB the upload sends (its body is generated, never read from a file).
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(2..=4096))]
    pub upload_mib: u64,
    /// Stalled HTTP/1.1 clients; also the streams the h2 client opens.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub clients: u32,
    /// Bytes each stalled client and each h2 stream asks for (`/bytes?n=`; the backend serves
    /// at most 64 MiB).
    #[arg(long, default_value_t = 16 << 20, value_parser = clap::value_parser!(u64).range(1..=64 << 20))]
    pub response_bytes: u64,
    /// How long the stalled clients and the h2 client hold on before the bench lets go.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub stall: Duration,
    /// The route timeout both proxies get (from the end of the request to the end of the
    /// response in wasmesh; 0 turns it off in both).
    #[arg(long, default_value_t = 3000)]
    pub route_timeout_ms: u64,
    /// Fresh `x-client` values the key flood sends, one per request.
    #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u32).range(1..))]
    pub keys: u32,
    /// Keep-alive connections the key flood sends them on, each one request at a time.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub flood_connections: u32,
}

/// Options of `wasmesh-bench lb`.
#[derive(Args, Debug)]
pub struct LbArgs {
    /// The load.
    #[command(flatten)]
    pub load: Load,
    /// Extra milliseconds the slow backend (`b3`) waits before every answer.
    #[arg(long, default_value_t = 40)]
    pub slow_ms: u64,
    /// `peak_ewma.decay_ms` for the `peak_ewma` cases (left out: the filter's 10 000): how fast
    /// good news is believed and a peak forgotten.
    #[arg(long)]
    pub decay_ms: Option<u64>,
    /// `peak_ewma.default_rtt_ms` (left out: the filter's 30): the estimate an endpoint starts
    /// with, before its first answer.
    #[arg(long)]
    pub default_rtt_ms: Option<u64>,
}

impl LbArgs {
    /// The filter's `peak_ewma` object as given on the command line; `None` for its defaults.
    pub fn peak_ewma(&self) -> Option<serde_json::Value> {
        let mut tuning = serde_json::Map::new();
        if let Some(ms) = self.decay_ms {
            tuning.insert("decay_ms".into(), ms.into());
        }
        if let Some(ms) = self.default_rtt_ms {
            tuning.insert("default_rtt_ms".into(), ms.into());
        }
        (!tuning.is_empty()).then_some(serde_json::Value::Object(tuning))
    }
}

/// How hard and how long each sample is driven: the same knobs in every mode.
#[derive(Args, Debug, Clone)]
pub struct Load {
    /// How long each measurement runs (whole seconds: `10s`, `1m`).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub duration: Duration,
    /// How many rounds; each round measures every target once.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    pub rounds: u32,
    /// wrk connections (`-c`; wrk always runs one thread, `-t1`), and the `tls` mode's
    /// handshake client's.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..))]
    pub connections: u32,
    /// Load sent to a target right before each measurement, and thrown away: it fills
    /// connection pools, JIT and allocator caches so the measurement sees the steady state.
    #[arg(long, default_value = "3s", value_parser = parse_duration)]
    pub warmup: Duration,
    /// Pause each connection this many milliseconds before every request (a wrk `delay()`
    /// script): a paced load below saturation, as a mesh sees in production, where tail
    /// latency shows the balancer's choices instead of the machine's scheduling under overload.
    /// Absent: every connection sends back to back (saturation).
    #[arg(long)]
    pub pace_ms: Option<u32>,
}

/// `10s`, `1m` or a bare number of seconds: whole seconds, because that is what wrk's `-d` takes.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let value: u64 = number
        .parse()
        .map_err(|_| format!("{text:?}: expected whole seconds or minutes, such as 10s or 1m"))?;
    let seconds = match unit {
        "s" => value,
        "m" => value * 60,
        other => return Err(format!("{text:?}: unknown unit {other:?} (s or m)")),
    };
    if seconds == 0 {
        return Err(format!("{text:?}: must be at least 1s"));
    }
    Ok(Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("7"), Ok(Duration::from_secs(7)));
        assert!(parse_duration("500ms").is_err());
        assert!(parse_duration("1.5s").is_err());
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert!(parse_duration("10h").is_err());
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("fast").is_err());
    }

    #[test]
    fn without_subcommand_is_the_cost_benchmark() {
        let cli = Cli::try_parse_from([
            "b",
            "--duration",
            "10s",
            "--rounds",
            "3",
            "--connections",
            "64",
        ])
        .unwrap();
        assert!(cli.mode.is_none());
        assert_eq!(cli.load.connections, 64);
        assert_eq!(cli.chain.label(), "metrics + failover + lb");
        assert!(!cli.per_filter);
        let cli = Cli::try_parse_from(["b", "--chain", "metrics,lb", "--per-filter"]).unwrap();
        assert_eq!(cli.chain.label(), "metrics + lb");
        assert!(cli.per_filter);
        assert!(Cli::try_parse_from(["b", "--chain", "metrics,nope"]).is_err());
        assert!(Cli::try_parse_from(["b", "--chain", "lb", "lb"]).is_err());
    }

    #[test]
    fn lb_takes_its_own_load() {
        let cli =
            Cli::try_parse_from(["b", "lb", "--duration", "5s", "--connections", "16"]).unwrap();
        let Some(Mode::Lb(lb)) = cli.mode else {
            panic!("not lb: {cli:?}")
        };
        assert_eq!((lb.load.duration.as_secs(), lb.load.connections), (5, 16));
        assert_eq!(lb.slow_ms, 40);
        assert_eq!(lb.peak_ewma(), None);
        let cli = Cli::try_parse_from(["b", "lb", "--decay-ms", "1000"]).unwrap();
        let Some(Mode::Lb(lb)) = cli.mode else {
            panic!("not lb: {cli:?}")
        };
        assert_eq!(lb.peak_ewma(), Some(serde_json::json!({"decay_ms": 1000})));
        assert!(Cli::try_parse_from(["b", "--rounds", "2", "lb"]).is_err());
    }

    #[test]
    fn scale_takes_worker_counts_and_a_baseline() {
        let cli =
            Cli::try_parse_from(["b", "scale", "--workers", "1,2,4", "--baseline", "old"]).unwrap();
        let Some(Mode::Scale(scale)) = cli.mode else {
            panic!("not scale: {cli:?}")
        };
        assert_eq!(scale.workers, Some(vec![1, 2, 4]));
        assert_eq!(scale.baseline, Some(PathBuf::from("old")));
        assert_eq!(scale.chain.label(), "metrics + failover + lb");
        assert_eq!(scale.load.connections, 64);
        assert!(Cli::try_parse_from(["b", "scale", "--workers", "two"]).is_err());
    }

    #[test]
    fn memory_runs_every_scenario_by_default() {
        let cli = Cli::try_parse_from(["b", "memory"]).unwrap();
        let Some(Mode::Memory(memory)) = cli.mode else {
            panic!("not memory: {cli:?}")
        };
        assert_eq!(
            memory.scenarios,
            <Scenario as clap::ValueEnum>::value_variants()
        );
        assert_eq!(
            (memory.upload_mib, memory.clients, memory.keys),
            (500, 100, 20_000)
        );
        assert_eq!(memory.response_bytes, 16 << 20);
        assert_eq!(memory.stall, Duration::from_secs(5));
        let cli = Cli::try_parse_from(["b", "memory", "--scenarios", "key-flood,upload"]).unwrap();
        let Some(Mode::Memory(memory)) = cli.mode else {
            panic!("not memory: {cli:?}")
        };
        assert_eq!(memory.scenarios, [Scenario::KeyFlood, Scenario::Upload]);
        assert!(Cli::try_parse_from(["b", "memory", "--scenarios", "nope"]).is_err());
        assert!(Cli::try_parse_from(["b", "memory", "--response-bytes", "100000000"]).is_err());
    }
}
