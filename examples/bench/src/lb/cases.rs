//! The four things measured (host × policy) and the one description both hosts are configured
//! from: exactly the end-to-end tests' `lb` setup (`tests/src/scenarios/lb.rs`), the filter's
//! static `endpoints` list and an `original_dst` cluster reading the filter's pick header.

use std::net::SocketAddr;
use std::path::Path;

use serde_json::{json, Value};
use wasmesh_tests::{MeshConfig, ProxyKind};

/// The header the filter writes its pick to and the cluster connects by (the filter's default).
pub const PICK_HEADER: &str = "x-envoy-original-dst-host";
/// The response header the filter echoes its pick in: lets the probe check the filter ran.
pub const ECHO_HEADER: &str = "x-wasmesh-endpoint";

/// A balancing policy of the `lb` filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Each endpoint in turn: blind to latency, the control.
    RoundRobin,
    /// Power of two choices on peak-EWMA latency × (in-flight + 1): should avoid the slow one.
    PeakEwma,
}

impl Policy {
    /// The name in the filter's configuration.
    pub fn name(self) -> &'static str {
        match self {
            Policy::RoundRobin => "round_robin",
            Policy::PeakEwma => "peak_ewma",
        }
    }
}

/// One line of the table: a host running the filter with one policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Case {
    /// Which proxy.
    pub host: ProxyKind,
    /// Which policy.
    pub policy: Policy,
}

impl Case {
    /// Every case, in table order.
    pub const ALL: [Case; 4] = [
        Case::new(ProxyKind::Envoy, Policy::RoundRobin),
        Case::new(ProxyKind::Envoy, Policy::PeakEwma),
        Case::new(ProxyKind::Wasmesh, Policy::RoundRobin),
        Case::new(ProxyKind::Wasmesh, Policy::PeakEwma),
    ];

    const fn new(host: ProxyKind, policy: Policy) -> Self {
        Self { host, policy }
    }

    /// `envoy peak_ewma`.
    pub fn label(self) -> String {
        format!("{} {}", self.host.name(), self.policy.name())
    }

    /// Listener `main` → plugin `lb` (service `web`, this policy, `endpoints` in that order,
    /// weight 1 each) → cluster `dynamic` (`original_dst`), one worker: the balancer is per
    /// worker, so one worker sees all the load. `tuning` is the `peak_ewma` object, used only by
    /// that policy.
    pub fn mesh_config(
        self,
        lb_wasm: &Path,
        endpoints: &[SocketAddr],
        tuning: Option<&Value>,
    ) -> MeshConfig {
        wasmesh_tests::scenarios::lb::mesh_with(
            lb_wasm,
            self.filter_configuration(endpoints, tuning),
        )
    }

    /// The filter's defaults otherwise (for `peak_ewma`: decay 10 s, default RTT 30 ms).
    fn filter_configuration(self, endpoints: &[SocketAddr], tuning: Option<&Value>) -> Value {
        let list: Vec<Value> = endpoints
            .iter()
            .map(|a| json!({ "address": a.to_string(), "weight": 1 }))
            .collect();
        let mut config = json!({
            "service": "web",
            "policy": self.policy.name(),
            "endpoints": list,
            "response_header": ECHO_HEADER,
        });
        if let (Policy::PeakEwma, Some(tuning)) = (self.policy, tuning) {
            config["peak_ewma"] = tuning.clone();
        }
        config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configures_the_filter_like_the_end_to_end_tests() {
        let addrs: Vec<SocketAddr> = vec!["127.0.0.1:1".parse().unwrap()];
        let tuning = json!({ "decay_ms": 1000 });
        let config = Case::ALL[1].mesh_config(Path::new("lb.wasm"), &addrs, Some(&tuning));
        let lb = config.plugin_named("lb");
        assert_eq!(
            lb.configuration.as_ref().unwrap()["policy"],
            Value::from("peak_ewma")
        );
        assert_eq!(
            lb.configuration.as_ref().unwrap()["endpoints"][0]["address"],
            Value::from("127.0.0.1:1")
        );
        assert_eq!(
            lb.configuration.as_ref().unwrap()["peak_ewma"],
            json!({ "decay_ms": 1000 })
        );
        let control = Case::ALL[0].mesh_config(Path::new("lb.wasm"), &addrs, Some(&tuning));
        let control = control.plugin_named("lb").configuration.as_ref().unwrap();
        assert!(control.get("peak_ewma").is_none(), "round_robin refuses it");
        assert_eq!(config.worker_count(), 1);
        assert_eq!(Case::ALL[2].label(), "wasmesh round_robin");
    }
}
