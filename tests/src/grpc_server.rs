//! The real gRPC server the gRPC scenarios call: `tests/grpc/server.py` on Python `grpcio`
//! (installed into `<root>/.venv` by `cargo xtask test` or `cargo xtask grpc-server`), serving
//! `wasmesh.test.Echo` and Envoy's rate-limit service over h2c on an ephemeral loopback port. A
//! missing grpcio is a loud failure, never a skip.

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use crate::deadline::poll_until;
use crate::paths::workspace_root;
use crate::process::{run_dir, Supervised};

/// A running server; stopped when dropped.
pub struct GrpcServer {
    /// Where it listens.
    pub addr: SocketAddr,
    _process: Supervised,
}

impl GrpcServer {
    /// Starts the server and waits until it listens.
    pub fn start() -> GrpcServer {
        let root = workspace_root();
        let python = root.join(".venv").join("bin").join("python");
        assert!(
            python.is_file(),
            "{} is missing: run `cargo xtask grpc-server` (or `cargo xtask test`), which installs grpcio there",
            python.display()
        );
        let mut command = Command::new(python);
        command.arg(root.join("tests").join("grpc").join("server.py"));
        let mut process = Supervised::spawn("grpc-server", run_dir("grpc-server"), command);
        let port: u16 = poll_until("the gRPC server to listen", Duration::from_secs(30), || {
            if let Some(status) = process.exited() {
                return Err(format!("it exited ({status}):\n{}", process.logs_tail()));
            }
            process
                .logs()
                .lines()
                .find_map(|line| line.strip_prefix("listening on "))
                .and_then(|port| port.trim().parse().ok())
                .ok_or_else(|| "no `listening on` line yet".to_string())
        });
        GrpcServer {
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            _process: process,
        }
    }
}
