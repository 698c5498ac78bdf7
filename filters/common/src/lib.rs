//! Pure logic shared by the wasmesh filters.
//!
//! Nothing here talks to the proxy-wasm ABI, so every rule the filters rely on (configuration
//! validation, shared-data key names, token-bucket arithmetic, the endpoint model and the
//! load-balancing policies) is unit-tested natively with
//! `cargo test -p wasmesh-common`, and the filters stay thin glue over it.

#![deny(missing_docs)]

pub mod authz;
pub mod config;
pub mod discovery;
pub mod failover;
pub mod hash;
pub mod headers;
pub mod lb;
pub mod metrics;
pub mod ratelimit;
