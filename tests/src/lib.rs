//! The end-to-end test rig: real proxies (our `wasmesh` and Envoy 1.40) on ephemeral ports, in
//! front of in-process [`wasmesh_backend`] upstreams, loading the same `.wasm` filters.
//!
//! The point is the *differential* style: a scenario in [`scenarios`] takes a [`ProxyKind`], so the
//! same module, requests and assertions run against both hosts and any difference is a failure.
//!
//! ```no_run
//! use wasmesh_tests::{build_filters, client, Backend, Cluster, Listener, MeshConfig, Plugin, ProxyKind, Route};
//! let filters = build_filters();
//! let backend = Backend::start("b1");
//! let config = MeshConfig::new()
//!     .plugin(Plugin::new("hdr", &filters.headers))
//!     .cluster(Cluster::fixed("backend", [backend.addr]))
//!     .listener(Listener::new("main").filter("hdr").route(Route::prefix("/", "backend")));
//! let proxy = ProxyKind::Envoy.start(&config);
//! let response = client::get(&proxy.url("main", "/hello"), &[]);
//! assert_eq!(response.status, 200);
//! ```
#![deny(missing_docs)]

mod artifacts;
pub mod browser;
pub mod client;
mod deadline;
mod envoy;
mod grpc_server;
pub mod h2_raw;
mod lang_guests;
pub mod load;
pub mod mesh;
pub mod oci_registry;
mod paths;
pub mod pki;
mod process;
pub mod prometheus;
mod proxy;
pub mod raw;
pub mod scenarios;
mod slow_relay;
pub mod static_server;
pub mod tcp_echo;
pub mod tls_client;
mod vm_health;
mod wasmesh;
pub mod wat;
pub mod websocket;

pub use artifacts::{build_filters, envoy_bin, sha256_hex, wasmesh_bin, FilterSet};
pub use deadline::poll_until;
pub use envoy::{envoy_validate, validate_example, Envoy};
pub use grpc_server::GrpcServer;
pub use lang_guests::{build_lang_guests, LangGuest, LANGS};
pub use mesh::{
    CircuitBreakers, Cluster, ClusterTls, Listener, ListenerAccessLog, ListenerTls, MeshConfig,
    Plugin, RemoteModule, Route,
};
pub use paths::{target_dir, workspace_root};
pub use proxy::{Proxy, ProxyKind};
pub use slow_relay::SlowRelay;
pub use tcp_echo::TcpEcho;
pub use wasmesh::Wasmesh;
pub use wasmesh_backend::{Backend, BackendHandle};

/// One test per host for a scenario `fn(ProxyKind)` of the calling module:
/// `in_both_hosts!(scenario)` defines `scenario::wasmesh` and `scenario::envoy`, so the same
/// assertions run against both hosts without a pair of wrappers each time.
#[macro_export]
macro_rules! in_both_hosts {
    ($($scenario:ident),+ $(,)?) => {$(
        mod $scenario {
            #[test]
            fn wasmesh() {
                super::$scenario($crate::ProxyKind::Wasmesh);
            }

            #[test]
            fn envoy() {
                super::$scenario($crate::ProxyKind::Envoy);
            }
        }
    )+};
}
