//! The lines of the table: going direct, through a bare TCP relay (the floor of one more hop),
//! then each host without filters and with the chain (and, with `--per-filter`, with each
//! prefix of it in between).

use wasmesh_tests::ProxyKind;

use crate::cost::chain::Chain;

/// One line of the table: a host (or none) with some filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The proxy in front of the backend; `None` when going direct or through the relay.
    pub host: Option<ProxyKind>,
    /// Through the bare TCP relay ([`crate::relay`]) instead of a proxy.
    pub relay: bool,
    /// Its filters; empty for the router alone.
    pub chain: Chain,
    /// wasmesh from the `--baseline` binary instead of this tree's.
    pub baseline: bool,
}

impl Target {
    /// `direct`, `envoy`, `wasmesh + metrics + lb`.
    pub fn label(&self) -> String {
        match (self.host, self.chain.filters().is_empty()) {
            (None, _) if self.relay => "tcp relay (one more hop)".into(),
            (None, _) => "direct".into(),
            (Some(kind), true) => self.host_name(kind),
            (Some(kind), false) => format!("{} + {}", self.host_name(kind), self.chain.label()),
        }
    }
}

impl Target {
    fn host_name(&self, kind: ProxyKind) -> String {
        if self.baseline {
            format!("{} (baseline)", kind.name())
        } else {
            kind.name().into()
        }
    }
}

/// The two hosts, in table order.
pub const HOSTS: [ProxyKind; 2] = [ProxyKind::Envoy, ProxyKind::Wasmesh];

/// Direct, the relay, then per host: no filters, then the chain's steps when `per_filter` (the
/// first filter, the first two, …: [`Chain::step`]), else the whole chain alone; with a
/// `baseline`, its wasmesh last, without and with the whole chain.
pub fn all(chain: &Chain, per_filter: bool, baseline: bool) -> Vec<Target> {
    let len = chain.filters().len();
    let steps: Vec<usize> = if per_filter {
        (1..=len).collect()
    } else {
        vec![len]
    };
    let mut targets = vec![
        Target {
            host: None,
            relay: false,
            chain: Chain::default(),
            baseline: false,
        },
        Target {
            host: None,
            relay: true,
            chain: Chain::default(),
            baseline: false,
        },
    ];
    for host in HOSTS {
        for n in std::iter::once(0).chain(steps.iter().copied()) {
            targets.push(Target {
                host: Some(host),
                relay: false,
                chain: chain.step(n),
                baseline: false,
            });
        }
    }
    if baseline {
        for n in [0, len] {
            targets.push(Target {
                host: Some(ProxyKind::Wasmesh),
                relay: false,
                chain: chain.step(n),
                baseline: true,
            });
        }
    }
    targets
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(chain: &str, per_filter: bool) -> Vec<String> {
        let chain: Chain = chain.parse().unwrap();
        all(&chain, per_filter, false)
            .iter()
            .map(Target::label)
            .collect()
    }

    #[test]
    fn the_default_is_six_lines() {
        assert_eq!(
            labels("headers", false),
            [
                "direct",
                "tcp relay (one more hop)",
                "envoy",
                "envoy + headers",
                "wasmesh",
                "wasmesh + headers"
            ]
        );
    }

    #[test]
    fn per_filter_adds_the_prefixes() {
        assert_eq!(
            labels("metrics,lb", true),
            [
                "direct",
                "tcp relay (one more hop)",
                "envoy",
                "envoy + metrics",
                "envoy + metrics + lb",
                "wasmesh",
                "wasmesh + metrics",
                "wasmesh + metrics + lb"
            ]
        );
        assert_eq!(labels("metrics,lb", false).len(), 6);
    }

    #[test]
    fn a_baseline_adds_its_wasmesh_without_and_with_the_chain() {
        let chain: Chain = "metrics,lb".parse().unwrap();
        let labels: Vec<String> = all(&chain, false, true).iter().map(Target::label).collect();
        assert_eq!(
            labels[6..],
            ["wasmesh (baseline)", "wasmesh (baseline) + metrics + lb"]
        );
    }
}
