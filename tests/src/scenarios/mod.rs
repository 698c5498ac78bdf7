//! Scenarios: one function per behaviour, taking the [`crate::ProxyKind`] to run it against.
//!
//! Each `tests/tests/<host>_<area>.rs` file calls the same scenario with its host, so Envoy and
//! wasmesh face the same module, requests and assertions.

pub mod abi;
pub mod access_log;
pub mod attribution;
pub mod authz;
pub mod config;
pub mod discovery;
pub mod dns;
pub mod endpoints;
pub mod failover;
pub mod grpc;
pub mod h2;
pub mod headers;
pub mod isolation;
pub mod lang;
pub mod lb;
pub mod limits;
pub mod live_view;
pub mod metrics;
pub mod overload;
pub mod phases;
pub mod priority;
pub mod proxying;
pub mod ratelimit;
pub mod reload;
pub mod remote_modules;
pub mod rollout;
pub mod signature;
pub mod singleton;
pub mod strict;
pub mod tcp_proxy;
pub mod tls;
pub mod upstream_pool;
pub mod vm_sharing;
pub mod websocket;
pub mod worker_sockets;
