//! The lines of the table: going direct, then each host without filters and with the chain
//! (and, with `--per-filter`, with each prefix of it in between).

use wasmesh_tests::ProxyKind;

use crate::cost::chain::Chain;

/// One line of the table: a host (or none) with some filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The proxy in front of the backend; `None` when going direct.
    pub host: Option<ProxyKind>,
    /// Its filters; empty for the router alone.
    pub chain: Chain,
}

impl Target {
    /// `direct`, `envoy`, `wasmesh + metrics + lb`.
    pub fn label(&self) -> String {
        match (self.host, self.chain.filters().is_empty()) {
            (None, _) => "direct".into(),
            (Some(kind), true) => kind.name().into(),
            (Some(kind), false) => format!("{} + {}", kind.name(), self.chain.label()),
        }
    }
}

/// The two hosts, in table order.
pub const HOSTS: [ProxyKind; 2] = [ProxyKind::Envoy, ProxyKind::Wasmesh];

/// Direct, then per host: no filters, then the chain's steps when `per_filter` (the first
/// filter, the first two, …: [`Chain::step`]), else the whole chain alone.
pub fn all(chain: &Chain, per_filter: bool) -> Vec<Target> {
    let len = chain.filters().len();
    let steps: Vec<usize> = if per_filter {
        (1..=len).collect()
    } else {
        vec![len]
    };
    let mut targets = vec![Target {
        host: None,
        chain: Chain::default(),
    }];
    for host in HOSTS {
        for n in std::iter::once(0).chain(steps.iter().copied()) {
            targets.push(Target {
                host: Some(host),
                chain: chain.step(n),
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
        all(&chain, per_filter).iter().map(Target::label).collect()
    }

    #[test]
    fn the_default_is_todays_five_lines() {
        assert_eq!(
            labels("headers", false),
            [
                "direct",
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
                "envoy",
                "envoy + metrics",
                "envoy + metrics + lb",
                "wasmesh",
                "wasmesh + metrics",
                "wasmesh + metrics + lb"
            ]
        );
        assert_eq!(labels("metrics,lb", false).len(), 5);
    }
}
