//! DNS records → the endpoint model: pure functions over the records an answer carried, so the
//! SRV rules (RFC 2782) and TTL arithmetic are unit-tested without a server.

use std::net::{IpAddr, SocketAddr};

use hickory_resolver::proto::rr::{Name, RData, Record, RecordType};
use wasmesh_contract::endpoint::Endpoint;

/// The addresses of type `kind` (`A` or `AAAA`) among `records` owned by `owner` (any owner
/// when `None`: the answer section of a lookup of that name, CNAMEs followed), with the
/// smallest TTL among them; `None` when there is none.
pub fn addresses(
    records: &[Record],
    kind: RecordType,
    owner: Option<&Name>,
) -> Option<(Vec<IpAddr>, u32)> {
    let mut ttl = u32::MAX;
    let ips: Vec<IpAddr> = records
        .iter()
        .filter(|r| owner.is_none_or(|o| r.name.eq_ignore_root(o)))
        .filter_map(|r| {
            let ip = match (&r.data, kind) {
                (RData::A(a), RecordType::A) => IpAddr::V4(a.0),
                (RData::AAAA(a), RecordType::AAAA) => IpAddr::V6(a.0),
                _ => return None,
            };
            ttl = ttl.min(r.ttl);
            Some(ip)
        })
        .collect();
    (!ips.is_empty()).then_some((ips, ttl))
}

/// One usable SRV record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The host whose addresses serve.
    pub name: Name,
    /// Port on each address.
    pub port: u16,
    /// Share within its priority (see [`srv_targets`] for weight 0).
    pub weight: u32,
    /// Lower is preferred, as the endpoint model's priority.
    pub priority: u32,
    /// The record's TTL.
    pub ttl: u32,
}

/// The SRV records of an answer. A target of `.` ("no service here", RFC 2782) is left out.
/// Weight 0 means "no preference" when every record of a priority has it, so those get
/// weight 1 each; beside non-zero weights it keeps 0, which `lb` never picks (RFC 2782 gives
/// it "a very small chance"; a drained endpoint is the closer fit in the endpoint model).
pub fn srv_targets(records: &[Record]) -> Vec<Target> {
    let mut targets: Vec<Target> = records
        .iter()
        .filter_map(|r| match &r.data {
            RData::SRV(srv) if !srv.target.is_root() => Some(Target {
                name: srv.target.clone(),
                port: srv.port,
                weight: u32::from(srv.weight),
                priority: u32::from(srv.priority),
                ttl: r.ttl,
            }),
            _ => None,
        })
        .collect();
    let all_zero = |priority: u32, targets: &[Target]| {
        targets
            .iter()
            .filter(|t| t.priority == priority)
            .all(|t| t.weight == 0)
    };
    let zero_levels: Vec<u32> = targets
        .iter()
        .map(|t| t.priority)
        .filter(|p| all_zero(*p, &targets))
        .collect();
    for target in &mut targets {
        if zero_levels.contains(&target.priority) {
            target.weight = 1;
        }
    }
    targets
}

/// An endpoint at `ip:port` with `weight`, `priority` and `zone`.
pub fn endpoint(ip: IpAddr, port: u16, weight: u32, priority: u32, zone: &str) -> Endpoint {
    let mut endpoint = Endpoint::new(SocketAddr::new(ip, port)).with_weight(weight);
    endpoint.priority = priority;
    endpoint.zone = zone.to_string();
    endpoint
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use hickory_resolver::proto::rr::rdata::{A, AAAA, CNAME, SRV};

    use super::*;

    fn name(text: &str) -> Name {
        Name::from_utf8(text).unwrap()
    }

    fn record(owner: &str, ttl: u32, data: RData) -> Record {
        Record::from_rdata(name(owner), ttl, data)
    }

    fn srv(priority: u16, weight: u16, port: u16, target: &str) -> Record {
        record(
            "_web._tcp.mesh.test.",
            30,
            RData::SRV(SRV::new(priority, weight, port, name(target))),
        )
    }

    #[test]
    fn addresses_of_the_asked_type_with_the_smallest_ttl() {
        let records = [
            record(
                "web.mesh.test.",
                60,
                RData::CNAME(CNAME(name("real.mesh.test."))),
            ),
            record(
                "real.mesh.test.",
                9,
                RData::A(A(Ipv4Addr::new(10, 0, 0, 1))),
            ),
            record(
                "real.mesh.test.",
                4,
                RData::A(A(Ipv4Addr::new(10, 0, 0, 2))),
            ),
            record("real.mesh.test.", 1, RData::AAAA(AAAA(Ipv6Addr::LOCALHOST))),
        ];
        let (ips, ttl) = addresses(&records, RecordType::A, None).unwrap();
        assert_eq!(ips.len(), 2);
        assert_eq!(ttl, 4, "the AAAA record's TTL is not the A set's");
        let owner = name("REAL.mesh.test.");
        let (v6, ttl) = addresses(&records, RecordType::AAAA, Some(&owner)).unwrap();
        assert_eq!((v6, ttl), (vec![IpAddr::V6(Ipv6Addr::LOCALHOST)], 1));
        assert_eq!(
            addresses(&records, RecordType::A, Some(&name("other.test."))),
            None
        );
    }

    #[test]
    fn srv_weight_zero_is_no_preference_only_when_the_whole_level_has_it() {
        let targets = srv_targets(&[
            srv(0, 0, 80, "a.mesh.test."),
            srv(0, 0, 81, "b.mesh.test."),
            srv(1, 3, 82, "c.mesh.test."),
            srv(1, 0, 83, "d.mesh.test."),
            srv(2, 5, 84, "."),
        ]);
        let summary: Vec<(u16, u32, u32)> = targets
            .iter()
            .map(|t| (t.port, t.weight, t.priority))
            .collect();
        assert_eq!(
            summary,
            vec![(80, 1, 0), (81, 1, 0), (82, 3, 1), (83, 0, 1)],
            "the `.` target is left out"
        );
        assert_eq!(targets[0].ttl, 30);
    }

    #[test]
    fn endpoint_carries_the_configured_fields() {
        let e = endpoint(IpAddr::V4(Ipv4Addr::LOCALHOST), 8080, 2, 1, "z1");
        assert_eq!(
            (e.address.to_string(), e.weight, e.priority, e.zone.as_str()),
            ("127.0.0.1:8080".to_string(), 2, 1, "z1")
        );
    }
}
