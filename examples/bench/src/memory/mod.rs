//! The `memory` mode: what hostile clients make each proxy hold. Four scenarios from the
//! issue (a 500 MiB upload through a filter that buffers it, clients that never read a large
//! response over HTTP/1.1 and over h2, a flood of fresh rate-limit keys), each run against a
//! fresh Envoy and a fresh wasmesh with the same configuration, the proxy's RSS sampled
//! throughout, and what the clients saw reported beside it.

pub mod bulk_backend;
pub mod clock;
pub mod h2_window;
pub mod http1;
pub mod key_flood;
pub mod measure;
pub mod report;
pub mod sampler;
pub mod scenarios;
pub mod stalled;
pub mod upload;
