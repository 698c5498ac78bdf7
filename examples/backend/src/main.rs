//! `wasmesh-backend --listen 127.0.0.1:8081 --name b1`: one echo backend until Ctrl-C.

use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use wasmesh_backend::{ExtraDelay, Flaky};

/// A demo/echo HTTP/1.1 + h2c backend: answers every request with a JSON echo of it.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8081")]
    listen: SocketAddr,
    /// Name reported in `x-backend` and in the echo.
    #[arg(long, default_value = "b1")]
    name: String,
    /// Extra milliseconds before every answer: a uniformly slow endpoint (e.g. to watch a
    /// latency-aware balancer avoid it).
    #[arg(long, default_value_t = 0)]
    delay_ms: u64,
    /// Answer every n-th request 503 (2: half of them; 0: none): a flaky endpoint.
    #[arg(long, default_value_t = 0)]
    fail_every: u64,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("listening on {}", args.listen))?;
        eprintln!(
            "backend {} listening on http://{}",
            args.name,
            listener.local_addr()?
        );
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        let counter = Arc::new(AtomicU64::new(0));
        let delay = ExtraDelay::new(Duration::from_millis(args.delay_ms));
        let flaky = Flaky::default();
        flaky.set_every(args.fail_every);
        wasmesh_backend::serve_shaped(listener, args.name, counter, delay, flaky, shutdown).await;
        Ok(())
    })
}
