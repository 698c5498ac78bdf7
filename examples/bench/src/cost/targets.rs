//! The five things measured, and the one proxy description both hosts are configured from.

use std::net::SocketAddr;
use std::path::Path;

use serde_json::{json, Value};
use wasmesh_tests::{MeshConfig, Plugin, ProxyKind};

/// Request header the filter adds: proves on the way in that the filter ran.
pub const REQUEST_HEADER: (&str, &str) = ("x-bench", "1");
/// Response header the filter adds: checked once per proxy start, before any load.
pub const RESPONSE_HEADER: (&str, &str) = ("x-served-by", "wasmesh-bench");

/// One line of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    /// wrk straight to the backend: the floor every proxy adds to.
    Direct,
    /// Envoy, router only.
    Envoy,
    /// Envoy with the `headers` filter in V8.
    EnvoyFilter,
    /// wasmesh, no plugins.
    Wasmesh,
    /// wasmesh with the `headers` filter in wasmtime.
    WasmeshFilter,
}

impl Target {
    /// Every target, in table order.
    pub const ALL: [Target; 5] = [
        Target::Direct,
        Target::Envoy,
        Target::EnvoyFilter,
        Target::Wasmesh,
        Target::WasmeshFilter,
    ];

    /// The label in the table.
    pub fn label(self) -> &'static str {
        match self {
            Target::Direct => "direct",
            Target::Envoy => "envoy",
            Target::EnvoyFilter => "envoy + headers",
            Target::Wasmesh => "wasmesh",
            Target::WasmeshFilter => "wasmesh + headers",
        }
    }

    /// The proxy in front of the backend; `None` when going direct.
    pub fn host(self) -> Option<ProxyKind> {
        match self {
            Target::Direct => None,
            Target::Envoy | Target::EnvoyFilter => Some(ProxyKind::Envoy),
            Target::Wasmesh | Target::WasmeshFilter => Some(ProxyKind::Wasmesh),
        }
    }

    /// Whether the `headers` filter is in the chain.
    pub fn has_filter(self) -> bool {
        matches!(self, Target::EnvoyFilter | Target::WasmeshFilter)
    }

    /// Listener `main` routing `/` to one backend, with the `headers` filter if this target has
    /// it, and one worker: the same description for either host.
    pub fn mesh_config(self, backend: SocketAddr, headers_wasm: &Path) -> MeshConfig {
        let plugins = if self.has_filter() {
            vec![Plugin::new("headers", headers_wasm)
                .vm_id("headers")
                .configuration(filter_configuration())]
        } else {
            Vec::new()
        };
        MeshConfig::single(plugins, [backend]).workers(1)
    }
}

/// The `headers` filter adds one request and one response header: about the least work a
/// filter can do while still touching both directions.
fn filter_configuration() -> Value {
    json!({
        "request": { "add": { REQUEST_HEADER.0: REQUEST_HEADER.1 } },
        "response": { "add": { RESPONSE_HEADER.0: RESPONSE_HEADER.1 } },
    })
}
