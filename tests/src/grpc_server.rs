//! The real gRPC server the gRPC scenarios call: `tests/grpc/server.py` on Python `grpcio`
//! (installed into `<root>/.venv` by `cargo xtask test` or `cargo xtask grpc-server`), serving
//! `wasmesh.test.Echo` and Envoy's rate-limit service over h2c (or TLS) on an ephemeral loopback
//! port. A missing grpcio is a loud failure, never a skip.

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
    /// Starts the server (h2c) and waits until it listens.
    pub fn start() -> GrpcServer {
        Self::start_with(&[])
    }

    /// Starts the server serving TLS with `certificate` and `key` (PEM files).
    pub fn start_tls(certificate: &std::path::Path, key: &std::path::Path) -> GrpcServer {
        Self::start_with(&[
            std::ffi::OsStr::new("--tls"),
            certificate.as_os_str(),
            key.as_os_str(),
        ])
    }

    fn start_with(args: &[&std::ffi::OsStr]) -> GrpcServer {
        let root = workspace_root();
        let python = root.join(".venv").join("bin").join("python");
        assert!(
            python.is_file(),
            "{} is missing: run `cargo xtask grpc-server` (or `cargo xtask test`), which installs grpcio there",
            python.display()
        );
        let mut command = Command::new(python);
        command.arg(root.join("tests").join("grpc").join("server.py"));
        command.args(args);
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
