//! Pure logic shared by the wasmesh filters.
//!
//! Nothing here talks to the proxy-wasm ABI, so every rule the filters rely on (configuration
//! validation, shared-data key names, token-bucket arithmetic) is unit-tested natively with
//! `cargo test -p wasmesh-common`, and the filters stay thin glue over it.

#![deny(missing_docs)]

pub mod config;
pub mod headers;
pub mod keys;
pub mod ratelimit;
