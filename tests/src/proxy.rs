//! A running proxy (either host), found ready through its admin endpoint.
//!
//! Both hosts are started the same way: `--admin-address-path FILE` makes them write the admin
//! address they bound; once `GET /ready` answers 200, `GET /listeners?format=json` (Envoy's format,
//! which wasmesh serves too) gives each listener's real port.

use std::collections::BTreeMap;
use std::fs;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::client::{Client, Response};
use crate::deadline::POLL_INTERVAL;
use crate::mesh::MeshConfig;
use crate::process::Supervised;
use crate::{Envoy, Wasmesh};

/// Which host to run: the differential tests run each scenario against both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyKind {
    /// Envoy 1.40 with the V8 runtime: the reference behaviour.
    Envoy,
    /// Our host.
    Wasmesh,
}

impl ProxyKind {
    /// Starts this host with `config` and waits until it is ready; panics if it does not get
    /// there.
    pub fn start(self, config: &MeshConfig) -> Proxy {
        self.try_start(config).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Starts this host with `config`; `Err` with its logs if it exits or is not ready in time.
    pub fn try_start(self, config: &MeshConfig) -> Result<Proxy, String> {
        match self {
            ProxyKind::Envoy => Envoy::try_start(config.to_envoy_yaml(), config.worker_count()),
            ProxyKind::Wasmesh => Wasmesh::try_start(config.to_wasmesh_json()),
        }
    }

    /// `"envoy"` or `"wasmesh"`, for messages.
    pub fn name(self) -> &'static str {
        match self {
            ProxyKind::Envoy => "envoy",
            ProxyKind::Wasmesh => "wasmesh",
        }
    }
}

/// A running proxy process; killed on drop, its logs printed if the test is failing.
///
/// When it is dropped at the end of a passing scenario, it also checks that none of its wasm
/// VMs failed (see [`crate::vm_health`]) and fails the test if one did, unless the scenario
/// said it expects failures ([`Proxy::expect_vm_failures`]).
pub struct Proxy {
    /// Which host this is.
    pub kind: ProxyKind,
    /// The admin listener.
    pub admin: SocketAddr,
    listeners: BTreeMap<String, SocketAddr>,
    process: Supervised,
    vm_failures_expected: AtomicBool,
}

impl Proxy {
    /// Waits (polling, up to `timeout`) for `process` to be ready, then reads its listeners.
    ///
    /// `Err` (with the process's logs) if it exits first or is not ready in time, so a test can
    /// also assert that a host *refuses* a configuration.
    pub(crate) fn await_ready(
        kind: ProxyKind,
        mut process: Supervised,
        admin_path: &Path,
        timeout: Duration,
    ) -> Result<Self, String> {
        let probe = Client::http1().with_timeout(Duration::from_secs(2));
        let deadline = Instant::now() + timeout;
        let admin = loop {
            if let Some(status) = process.exited() {
                return Err(format!(
                    "{} exited ({status}) before becoming ready:\n{}",
                    kind.name(),
                    process.logs_tail()
                ));
            }
            match probe_ready(&probe, admin_path) {
                Ok(admin) => break admin,
                Err(reason) if Instant::now() >= deadline => {
                    return Err(format!(
                        "{} not ready after {timeout:?} ({reason}):\n{}",
                        kind.name(),
                        process.logs_tail()
                    ));
                }
                Err(_) => std::thread::sleep(POLL_INTERVAL),
            }
        };
        let response = probe
            .get_checked(&format!("http://{admin}/listeners?format=json"))
            .map_err(|e| format!("{}: GET /listeners: {e}", kind.name()))?;
        let listeners = parse_listeners(&response.body).map_err(|e| {
            format!(
                "{}: /listeners?format=json: {e}; body: {}",
                kind.name(),
                response.text()
            )
        })?;
        Ok(Self {
            kind,
            admin,
            listeners,
            process,
            vm_failures_expected: AtomicBool::new(false),
        })
    }

    /// Says this scenario makes VMs fail on purpose (a trapping guest, a memory cap), so the
    /// check at the end of the scenario does not count them against it.
    pub fn expect_vm_failures(&self) {
        self.vm_failures_expected.store(true, Ordering::Relaxed);
    }

    /// What shows that a VM of this proxy failed so far (log lines, wasmesh's failure counter).
    pub fn vm_failures(&mut self) -> Vec<String> {
        let (kind, admin) = (self.kind, self.admin);
        let process = std::cell::RefCell::new(&mut self.process);
        crate::vm_health::failures(
            kind,
            admin,
            || process.borrow_mut().exited().is_none(),
            || process.borrow().logs(),
        )
    }

    /// The proxy's process id, for tests that signal it (e.g. `SIGHUP` to reload).
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// The address listener `name` is bound to; panics if there is no such listener.
    pub fn listener(&self, name: &str) -> SocketAddr {
        *self.listeners.get(name).unwrap_or_else(|| {
            panic!(
                "{} has no listener {name:?} (it has {:?})",
                self.kind.name(),
                self.listeners.keys().collect::<Vec<_>>()
            )
        })
    }

    /// `http://<listener addr><path>`.
    pub fn url(&self, listener: &str, path: &str) -> String {
        format!("http://{}{path}", self.listener(listener))
    }

    /// The admin's address (for a scraper).
    pub fn admin_addr(&self) -> SocketAddr {
        self.admin
    }

    /// `GET <admin><path>`, e.g. `/metrics` or `/config`.
    pub fn admin_get(&self, path: &str) -> Response {
        crate::client::get(&format!("http://{}{path}", self.admin), &[])
    }

    /// Everything the process logged so far (stdout, then stderr).
    pub fn logs(&self) -> String {
        self.process.logs()
    }

    /// The directory holding the config and the logs.
    pub fn run_dir(&self) -> &Path {
        self.process.dir()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if std::thread::panicking() || self.vm_failures_expected.load(Ordering::Relaxed) {
            return;
        }
        let failures = self.vm_failures();
        if !failures.is_empty() {
            panic!(
                "{}: a wasm VM failed during a scenario that expects none:\n  {}",
                self.kind.name(),
                failures.join("\n  "),
            );
        }
    }
}

/// The admin address once the address file names it and `GET /ready` answers 200.
fn probe_ready(probe: &Client, admin_path: &Path) -> Result<SocketAddr, String> {
    let text = fs::read_to_string(admin_path)
        .map_err(|e| format!("admin address file {}: {e}", admin_path.display()))?;
    let admin: SocketAddr = text
        .trim()
        .parse()
        .map_err(|e| format!("admin address file holds {text:?}: {e}"))?;
    let ready = probe.get_checked(&format!("http://{admin}/ready"))?;
    if ready.status == 200 {
        Ok(admin)
    } else {
        Err(format!(
            "/ready answered {}: {}",
            ready.status,
            ready.text()
        ))
    }
}

#[derive(Deserialize)]
struct ListenersDoc {
    listener_statuses: Vec<ListenerStatus>,
}

#[derive(Deserialize)]
struct ListenerStatus {
    name: String,
    local_address: Address,
}

#[derive(Deserialize)]
struct Address {
    socket_address: SocketAddress,
}

#[derive(Deserialize)]
struct SocketAddress {
    address: String,
    port_value: u16,
}

/// Envoy's `/listeners?format=json`: name → bound address.
fn parse_listeners(body: &[u8]) -> Result<BTreeMap<String, SocketAddr>, String> {
    let doc: ListenersDoc = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    doc.listener_statuses
        .into_iter()
        .map(|status| {
            let socket = status.local_address.socket_address;
            let ip = socket.address.parse().map_err(|e| {
                format!(
                    "listener {}: address {:?}: {e}",
                    status.name, socket.address
                )
            })?;
            Ok((status.name, SocketAddr::new(ip, socket.port_value)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_envoys_listener_format() {
        let body = br#"{"listener_statuses":[{"name":"main","local_address":{"socket_address":{"address":"127.0.0.1","port_value":12345}}}]}"#;
        let listeners = parse_listeners(body).unwrap();
        assert_eq!(listeners["main"], "127.0.0.1:12345".parse().unwrap());
    }
}
