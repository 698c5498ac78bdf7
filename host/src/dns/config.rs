//! The `dns` section of the configuration: one entry per service whose endpoint set the host
//! resolves from DNS and publishes to shared data (the key and schema `discovery` uses), so the
//! `lb` and `failover` filters of that VM id read it like any other discovered set.

use std::collections::HashSet;
use std::net::SocketAddr;

use anyhow::{bail, Result};
use hickory_resolver::proto::rr::Name;
use serde::{Deserialize, Serialize};

/// Which records give the endpoints.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum RecordKind {
    /// IPv4 addresses, each on the configured `port`.
    #[default]
    A,
    /// IPv6 addresses, each on the configured `port`.
    #[serde(rename = "AAAA")]
    Aaaa,
    /// `_service._proto.name` records: each target's addresses on the record's port, with the
    /// record's weight and priority.
    #[serde(rename = "SRV")]
    Srv,
}

/// One service resolved from DNS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnsService {
    /// The service name `lb` is configured with (`[A-Za-z0-9_.-]`): the set is published at
    /// `wasmesh.v1.endpoints.<service>`.
    pub service: String,
    /// The DNS name to look up (`web.mesh.test`, `_http._tcp.web.mesh.test`).
    pub name: String,
    /// Record type.
    #[serde(rename = "type", default)]
    pub kind: RecordKind,
    /// Port of every address (`A`/`AAAA` only; `SRV` records carry their own).
    #[serde(default)]
    pub port: Option<u16>,
    /// The VM id whose shared data gets the set: that of the `lb` plugins reading it.
    #[serde(default)]
    pub vm_id: String,
    /// The DNS server to ask; default: the system's (`/etc/resolv.conf`).
    #[serde(default)]
    pub resolver: Option<SocketAddr>,
    /// Longest time between two lookups; an answer whose TTL is shorter is looked up again
    /// when its TTL runs out.
    #[serde(default = "DnsService::default_refresh_ms")]
    pub refresh_ms: u64,
    /// Shortest time between two lookups, whatever the TTL (a TTL of 0 must not mean a busy loop).
    #[serde(default = "DnsService::default_min_refresh_ms")]
    pub min_refresh_ms: u64,
    /// Time allowed for one query to the server (each of its two attempts).
    #[serde(default = "DnsService::default_timeout_ms")]
    pub timeout_ms: u64,
    /// Cap of the jittered exponential backoff between retries of a failing lookup.
    #[serde(default = "DnsService::default_max_backoff_ms")]
    pub max_backoff_ms: u64,
    /// Weight of every address (`A`/`AAAA`; `SRV` records carry their own).
    #[serde(default)]
    pub weight: Option<u32>,
    /// Priority of every address (`A`/`AAAA`; `SRV` records carry their own).
    #[serde(default)]
    pub priority: Option<u32>,
    /// Zone of every endpoint (empty: unknown).
    #[serde(default)]
    pub zone: String,
}

impl DnsService {
    fn default_refresh_ms() -> u64 {
        5_000
    }
    fn default_min_refresh_ms() -> u64 {
        500
    }
    fn default_timeout_ms() -> u64 {
        2_000
    }
    fn default_max_backoff_ms() -> u64 {
        30_000
    }
}

/// Rejects an entry that cannot work, naming `dns[i].<field>`; `vm_ids` are those of the
/// configured plugins (a set published where no plugin reads it is a typo, not a choice).
pub fn validate(services: &[DnsService], vm_ids: &HashSet<&str>) -> Result<()> {
    let mut seen = HashSet::new();
    for (i, entry) in services.iter().enumerate() {
        let at = |field: &str| format!("config error at `dns[{i}].{field}`");
        let valid_name = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
        if entry.service.is_empty() || !entry.service.chars().all(valid_name) {
            bail!("{}: must be non-empty [A-Za-z0-9_.-]", at("service"));
        }
        if !seen.insert((entry.vm_id.as_str(), entry.service.as_str())) {
            bail!(
                "{}: duplicate service {:?} for vm_id {:?}",
                at("service"),
                entry.service,
                entry.vm_id
            );
        }
        if let Err(e) = Name::from_utf8(&entry.name) {
            bail!("{}: not a DNS name ({e})", at("name"));
        }
        if entry.name.trim_end_matches('.').is_empty() {
            bail!("{}: must not be empty", at("name"));
        }
        if !vm_ids.contains(entry.vm_id.as_str()) {
            bail!(
                "{}: no plugin has vm_id {:?}, so nothing would read the set",
                at("vm_id"),
                entry.vm_id
            );
        }
        match entry.kind {
            RecordKind::Srv => {
                for (field, given) in [
                    ("port", entry.port.is_some()),
                    ("weight", entry.weight.is_some()),
                    ("priority", entry.priority.is_some()),
                ] {
                    if given {
                        bail!("{}: SRV records carry their own {field}", at(field));
                    }
                }
            }
            RecordKind::A | RecordKind::Aaaa => {
                if matches!(entry.port, None | Some(0)) {
                    bail!("{}: A and AAAA records need a port (1..=65535)", at("port"));
                }
            }
        }
        if entry.min_refresh_ms == 0 {
            bail!("{}: must be > 0", at("min_refresh_ms"));
        }
        if entry.refresh_ms < entry.min_refresh_ms {
            bail!("{}: must be >= min_refresh_ms", at("refresh_ms"));
        }
        if entry.timeout_ms == 0 {
            bail!("{}: must be > 0", at("timeout_ms"));
        }
    }
    Ok(())
}
