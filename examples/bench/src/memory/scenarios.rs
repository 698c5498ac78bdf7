//! The four hostile clients of the `memory` mode, and the one description both proxies are
//! configured from for each: listener `main` → (the scenario's filter) → static cluster
//! `backend` (the in-process [`BulkBackend`](crate::memory::bulk_backend::BulkBackend)), one
//! worker, the same route timeout in both.

use std::net::SocketAddr;

use serde_json::json;
use wasmesh_tests::{Cluster, Listener, MeshConfig, Plugin, Route};

use crate::artifacts::Artifacts;

/// One scenario: what the client does to the proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// A large POST through a filter that holds the whole request body back
    /// (`StopIterationAndBuffer`): both hosts should answer 413 at the 1 MiB buffer limit.
    Upload,
    /// HTTP/1.1 clients that ask for a large body and never read it.
    Stalled,
    /// One h2c connection granting no stream window, with many streams asking for large bodies.
    H2Window,
    /// `ratelimit` keyed on a request header, and a request per fresh 8 KB key.
    KeyFlood,
}

/// The abi-test guest's plugin name; its `body` case is chosen per request by header.
pub const ABI_PLUGIN: &str = "abi";
/// The header and value choosing the guest's `body` case: hold each body back until its end.
pub const ABI_BODY_CASE: (&str, &str) = ("x-abi-case", "body");
/// The request header `ratelimit` keys its buckets on in [`Scenario::KeyFlood`].
pub const KEY_HEADER: &str = "x-client";

impl Scenario {
    /// The scenario's line in the table.
    pub fn label(self) -> &'static str {
        match self {
            Scenario::Upload => "upload, buffering filter",
            Scenario::Stalled => "stalled HTTP/1.1 clients",
            Scenario::H2Window => "h2 zero-window client",
            Scenario::KeyFlood => "rate-limit key flood",
        }
    }

    /// The proxy description: the abi-test guest for the upload, `ratelimit` (1 token/s, burst 1,
    /// keyed on [`KEY_HEADER`], every other field its default: `max_keys` 10 000, `deny`) for the
    /// flood, no filter for the two stalled clients (what holds memory there is the host's own
    /// buffering, not a filter's). Every route gets `route_timeout_ms`.
    pub fn mesh_config(
        self,
        backend: SocketAddr,
        artifacts: &Artifacts,
        route_timeout_ms: u64,
    ) -> MeshConfig {
        let plugin = match self {
            Scenario::Upload => Some(
                // The strings are the guest's README's; any work, the `body` case ignores them.
                Plugin::new(ABI_PLUGIN, &artifacts.abi_test)
                    .root_id("abi-root")
                    .vm_id("abi-vm")
                    .configuration(json!("abi-plugin-config"))
                    .vm_config(json!("abi-vm-config")),
            ),
            Scenario::KeyFlood => Some(
                Plugin::new("ratelimit", &artifacts.ratelimit).configuration(json!({
                    "tokens_per_second": 1,
                    "burst": 1,
                    "key": format!("header:{KEY_HEADER}"),
                })),
            ),
            Scenario::Stalled | Scenario::H2Window => None,
        };
        let mut listener = Listener::new("main");
        if let Some(plugin) = &plugin {
            listener = listener.filter(&plugin.name);
        }
        let mut config = MeshConfig::new()
            .cluster(Cluster::fixed("backend", [backend]))
            .listener(listener.route(Route::prefix("/", "backend").timeout_ms(route_timeout_ms)));
        if let Some(plugin) = plugin {
            config = config.plugin(plugin);
        }
        config
    }
}

#[cfg(test)]
mod tests {
    use clap::ValueEnum;

    use super::*;

    #[test]
    fn labels_are_distinct() {
        let mut labels: Vec<&str> = Scenario::value_variants()
            .iter()
            .map(|s| s.label())
            .collect();
        labels.sort_unstable();
        labels.dedup();
        assert_eq!(labels.len(), Scenario::value_variants().len());
    }
}
