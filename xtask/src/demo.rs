//! `cargo xtask demo`: three echo backends behind a release `wasmesh` running its embedded default
//! configuration (`examples/demo/wasmesh.json`), until Ctrl-C.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use tokio::signal::unix::{signal, SignalKind};
use wasmesh_backend::{Backend, BackendHandle};

use crate::cmd::{self, cargo, root, target_dir};

/// The demo's fixed addresses; `examples/demo/wasmesh.json` names the same ones.
const BACKENDS: [(&str, &str); 3] = [
    ("b1", "127.0.0.1:8081"),
    ("b2", "127.0.0.1:8082"),
    ("b3", "127.0.0.1:8083"),
];
const LISTENER: &str = "127.0.0.1:10000";
const ADMIN: &str = "127.0.0.1:9901";
/// The committed demo config, relative to the root (wasmesh embeds it as its default).
const DEMO_CONFIG: &str = "examples/demo/wasmesh.json";
/// How long a release wasmesh may take to compile the filters and become ready.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// Builds everything, starts the backends and wasmesh, prints how to use them, waits for Ctrl-C.
///
/// `WASMESH_BIN` names a `wasmesh` binary to run instead of building a release one (the
/// quick-start test runs the demo on the debug build the other tests use).
pub fn run() -> anyhow::Result<()> {
    crate::filters::build()?;
    let bin = match std::env::var_os("WASMESH_BIN") {
        Some(bin) if !bin.is_empty() => {
            eprintln!(
                "note: WASMESH_BIN is set; running {}",
                bin.to_string_lossy()
            );
            PathBuf::from(bin)
        }
        _ => {
            cmd::run(&mut cargo([
                "build",
                "--release",
                "-p",
                "wasmesh",
                "--bin",
                "wasmesh",
            ]))?;
            target_dir().join("release").join("wasmesh")
        }
    };

    let backends = start_backends()?;
    let wasmesh = wasmesh_command(&bin)?;
    eprintln!("$ {}", cmd::describe(&wasmesh));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let status = runtime.block_on(supervise(wasmesh, &backends))?;
    drop(backends);
    check_exit(status)
}

/// Runs wasmesh until it exits (`Some(status)`) or Ctrl-C (`None`), printing the usage once ready.
async fn supervise(
    wasmesh: std::process::Command,
    backends: &[BackendHandle],
) -> anyhow::Result<Option<ExitStatus>> {
    // Registered before anything starts, so Ctrl-C at any point stops wasmesh too.
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut wasmesh = tokio::process::Command::from(wasmesh);
    // Its own process group: Ctrl-C reaches only xtask, which then stops wasmesh, so the exit
    // is always ours to report (not a race between two handlers of the same signal).
    wasmesh.process_group(0).kill_on_drop(true);
    let mut child = wasmesh.spawn().context("starting wasmesh")?;
    let mut ready = tokio::task::spawn_blocking(wait_ready);
    let mut announced = false;
    loop {
        tokio::select! {
            status = child.wait() => return Ok(Some(status?)),
            ready = &mut ready, if !announced => {
                announced = true;
                match ready? {
                    Ok(()) => print_usage(backends),
                    Err(e) => eprintln!("warning: {e}"),
                }
            }
            _ = interrupt.recv() => {
                eprintln!("\nstopping wasmesh and the backends");
                let _ = child.kill().await;
                return Ok(None);
            }
        }
    }
}

fn start_backends() -> anyhow::Result<Vec<BackendHandle>> {
    BACKENDS
        .iter()
        .map(|(name, addr)| {
            let addr: SocketAddr = addr.parse().expect("valid demo address");
            Backend::start_on(name, addr)
                .with_context(|| format!("starting backend {name} on {addr} (port in use?)"))
        })
        .collect()
}

/// `wasmesh run` with its embedded default config, from the root so its relative
/// `target/wasm32-wasip1/wasm/...` paths resolve. With a `CARGO_TARGET_DIR` elsewhere those paths
/// would be wrong, so then a copy of the config with absolute paths is passed with `-c`.
fn wasmesh_command(bin: &Path) -> anyhow::Result<std::process::Command> {
    let target = target_dir();
    let mut command = std::process::Command::new(bin);
    command.arg("run").current_dir(root());
    if target != root().join("target") {
        let config = config_for_target_dir(&target)?;
        command.arg("-c").arg(config);
    }
    Ok(command)
}

fn config_for_target_dir(target: &Path) -> anyhow::Result<PathBuf> {
    let text = std::fs::read_to_string(root().join(DEMO_CONFIG))
        .with_context(|| format!("reading {DEMO_CONFIG}"))?;
    let wasm_dir = target.join("wasm32-wasip1").join("wasm");
    let text = text.replace("target/wasm32-wasip1/wasm", &wasm_dir.display().to_string());
    let path = target.join("demo-wasmesh.json");
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    eprintln!("note: CARGO_TARGET_DIR is set; using {}", path.display());
    Ok(path)
}

/// Polls the admin's `/ready` until it answers 200.
fn wait_ready() -> anyhow::Result<()> {
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        if ready_status() == Some(200) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!("wasmesh did not answer http://{ADMIN}/ready within {READY_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The status of `GET /ready` on the admin address, if it answers at all.
fn ready_status() -> Option<u16> {
    let addr: SocketAddr = ADMIN.parse().ok()?;
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    stream
        .write_all(b"GET /ready HTTP/1.0\r\nHost: admin\r\n\r\n")
        .ok()?;
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response.split(' ').nth(1)?.parse().ok()
}

fn print_usage(backends: &[BackendHandle]) {
    let names: Vec<String> = backends
        .iter()
        .map(|b| format!("{} on {}", b.name(), b.addr))
        .collect();
    println!(
        "\nwasmesh demo is running\n\
         \x20 backends: {}\n\
         \x20 proxy:    http://{LISTENER}  (filters: metrics, headers, ratelimit, lb)\n\
         \x20 admin:    http://{ADMIN}  (live view in a browser: http://{ADMIN}/ui)\n\n\
         try:\n\
         \x20 curl -i http://{LISTENER}/hello\n\
         \x20 curl http://{ADMIN}/metrics\n\
         \x20 cargo run -p wasmesh -- stat --endpoints\n\n\
         Ctrl-C stops everything.",
        names.join(", ")
    );
}

fn check_exit(status: Option<ExitStatus>) -> anyhow::Result<()> {
    match status {
        None => Ok(()),
        Some(status) if status.success() => Ok(()),
        Some(status) => bail!("wasmesh exited ({status})"),
    }
}
