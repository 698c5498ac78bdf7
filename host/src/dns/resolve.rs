//! Asking DNS: one hickory resolver per configured service (its own server, timeout and no
//! answer cache, so every refresh is a real query and its TTLs are the server's), and the
//! lookup of an entry's name into endpoints or a classified failure.

use std::time::Duration;

use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::RecordType;
use hickory_resolver::{Resolver, TokioResolver};
use wasmesh_contract::endpoint::{Endpoint, DEFAULT_WEIGHT};

use super::answer::{self, Target};
use super::config::{DnsService, RecordKind};

/// A good answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The endpoints, normalised (sorted by address, duplicates dropped).
    pub endpoints: Vec<Endpoint>,
    /// The smallest TTL of the records used, in seconds.
    pub ttl_s: u32,
    /// SRV targets left out because their addresses could not be resolved.
    pub skipped: Vec<String>,
}

/// A lookup that gave no usable set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The `reason` label: `no_response`, `nxdomain`, `no_records`, `status`, `malformed`,
    /// `resolver_config`.
    pub reason: &'static str,
    /// What happened, for the log.
    pub message: String,
}

/// The resolver of one configured service.
pub struct Lookup {
    resolver: TokioResolver,
    service: DnsService,
}

impl Lookup {
    /// A resolver for `service`: its `resolver` address (UDP, TCP for truncated answers), else
    /// the system's configuration; `Err` if the system configuration cannot be read.
    pub fn new(service: &DnsService) -> Result<Self, Failure> {
        let provider = TokioRuntimeProvider::default();
        let mut builder = match service.resolver {
            Some(server) => {
                let mut udp = ConnectionConfig::udp();
                udp.port = server.port();
                let mut tcp = ConnectionConfig::tcp();
                tcp.port = server.port();
                let name_server = NameServerConfig::new(server.ip(), true, vec![udp, tcp]);
                let config = ResolverConfig::from_name_servers(vec![name_server]);
                let mut builder = Resolver::builder_with_config(config, provider);
                // The server was named explicitly: /etc/hosts must not answer for it.
                builder.options_mut().use_hosts_file = ResolveHosts::Never;
                builder
            }
            None => Resolver::builder(provider).map_err(|e| Failure {
                reason: "resolver_config",
                message: format!("reading the system's resolver configuration: {e}"),
            })?,
        };
        let options = builder.options_mut();
        options.timeout = Duration::from_millis(service.timeout_ms);
        options.attempts = 2;
        let resolver = builder.build().map_err(|e| Failure {
            reason: "resolver_config",
            message: format!("building the resolver: {e}"),
        })?;
        Ok(Self {
            resolver,
            service: service.clone(),
        })
    }

    /// Looks the name up now (never from a cache).
    pub async fn resolve(&self) -> Result<Answer, Failure> {
        self.resolver.clear_cache();
        match self.service.kind {
            RecordKind::A => self.addresses(RecordType::A).await,
            RecordKind::Aaaa => self.addresses(RecordType::AAAA).await,
            RecordKind::Srv => self.srv().await,
        }
    }

    async fn addresses(&self, kind: RecordType) -> Result<Answer, Failure> {
        let s = &self.service;
        let lookup = self
            .resolver
            .lookup(s.name.as_str(), kind)
            .await
            .map_err(failure)?;
        let (ips, ttl_s) = answer::addresses(lookup.answers(), kind, None)
            .ok_or_else(|| no_records(&format!("the answer has no {kind} record")))?;
        let (weight, priority) = (s.weight.unwrap_or(DEFAULT_WEIGHT), s.priority.unwrap_or(0));
        let port = s.port.unwrap_or_default();
        let endpoints = ips
            .into_iter()
            .map(|ip| answer::endpoint(ip, port, weight, priority, &s.zone))
            .collect();
        Ok(Answer {
            endpoints: normalise(endpoints),
            ttl_s,
            skipped: Vec::new(),
        })
    }

    /// SRV records, then each target's addresses: from the answer's additional section when
    /// the server sent them, else by looking the target up (A, then AAAA).
    async fn srv(&self) -> Result<Answer, Failure> {
        let s = &self.service;
        let lookup = self
            .resolver
            .lookup(s.name.as_str(), RecordType::SRV)
            .await
            .map_err(failure)?;
        let targets = answer::srv_targets(lookup.answers());
        if targets.is_empty() {
            return Err(no_records("the answer has no usable SRV record"));
        }
        let (mut endpoints, mut skipped) = (Vec::new(), Vec::new());
        let mut ttl_s = u32::MAX;
        for target in targets {
            match self.target_addresses(&target, lookup.additionals()).await {
                Ok((ips, ttl)) => {
                    ttl_s = ttl_s.min(ttl).min(target.ttl);
                    endpoints.extend(ips.into_iter().map(|ip| {
                        answer::endpoint(ip, target.port, target.weight, target.priority, &s.zone)
                    }));
                }
                Err(e) => skipped.push(format!("{}: {}", target.name, e.message)),
            }
        }
        if endpoints.is_empty() {
            return Err(no_records(&format!(
                "no SRV target resolves: {}",
                skipped.join("; ")
            )));
        }
        Ok(Answer {
            endpoints: normalise(endpoints),
            ttl_s,
            skipped,
        })
    }

    async fn target_addresses(
        &self,
        target: &Target,
        additionals: &[hickory_resolver::proto::rr::Record],
    ) -> Result<(Vec<std::net::IpAddr>, u32), Failure> {
        for kind in [RecordType::A, RecordType::AAAA] {
            if let Some(found) = answer::addresses(additionals, kind, Some(&target.name)) {
                return Ok(found);
            }
        }
        let mut last = no_records("no address record");
        for kind in [RecordType::A, RecordType::AAAA] {
            match self.resolver.lookup(target.name.clone(), kind).await {
                Ok(lookup) => {
                    if let Some(found) = answer::addresses(lookup.answers(), kind, None) {
                        return Ok(found);
                    }
                }
                Err(e) => last = failure(e),
            }
        }
        Err(last)
    }
}

fn no_records(message: &str) -> Failure {
    Failure {
        reason: "no_records",
        message: message.to_string(),
    }
}

/// Classifies a resolver error: NXDOMAIN and "no record of this type" are answers that give
/// no set (kept as failures: see the module docs of [`super`]), the rest are the server's
/// silence, its error codes, or garbage.
fn failure(error: NetError) -> Failure {
    let reason = match &error {
        NetError::Dns(DnsError::NoRecordsFound(none))
            if none.response_code == ResponseCode::NXDomain =>
        {
            "nxdomain"
        }
        NetError::Dns(DnsError::NoRecordsFound(_)) => "no_records",
        NetError::Dns(DnsError::ResponseCode(_)) => "status",
        NetError::Proto(_) => "malformed",
        _ => "no_response",
    };
    Failure {
        reason,
        message: error.to_string(),
    }
}

/// The endpoints by address, the first of each address kept: an answer listing the same
/// endpoints in another order then equals the last one, and nothing is published for it.
fn normalise(endpoints: Vec<Endpoint>) -> Vec<Endpoint> {
    let mut by_address = std::collections::BTreeMap::new();
    for endpoint in endpoints {
        by_address.entry(endpoint.address).or_insert(endpoint);
    }
    by_address.into_values().collect()
}

#[cfg(test)]
mod tests {
    use hickory_resolver::net::NoRecords;
    use hickory_resolver::proto::op::Query;
    use hickory_resolver::proto::rr::Name;

    use super::*;

    fn none(code: ResponseCode) -> NetError {
        let query = Query::query(Name::from_utf8("web.mesh.test.").unwrap(), RecordType::A);
        NetError::Dns(DnsError::NoRecordsFound(NoRecords::new(query, code)))
    }

    #[test]
    fn failures_are_classified_for_the_reason_label() {
        let reason = |e: NetError| failure(e).reason;
        assert_eq!(reason(none(ResponseCode::NXDomain)), "nxdomain");
        assert_eq!(reason(none(ResponseCode::NoError)), "no_records");
        let refused = NetError::Dns(DnsError::ResponseCode(ResponseCode::Refused));
        assert_eq!(reason(refused), "status");
        assert_eq!(reason(NetError::Timeout), "no_response");
        let io = NetError::from(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert_eq!(reason(io), "no_response");
    }
}
