//! Unit-test a proxy-wasm filter in a plain `cargo test`: load its `.wasm` (built by any SDK),
//! feed it request and response headers, bodies, trailers, HTTP-call and gRPC answers and ticks,
//! and assert what it did: the outcome of each callback, the headers and bodies it let through,
//! its local replies, the calls it made, its log lines, metrics and shared data. No proxy, no
//! sockets: the filter runs in the same host wasmesh runs it in, which behaves as Envoy's does,
//! and the test plays the proxy's part one callback at a time.
//!
//! ```no_run
//! use wasmesh_harness::{Outcome, Plugin};
//!
//! let plugin = Plugin::load("target/wasm32-wasip1/release/my_filter.wasm")
//!     .configuration(r#"{"deny": "/admin"}"#)
//!     .start()?;
//! let mut stream = plugin.stream()?;
//! let outcome = stream.request_headers(&[(":method", "GET"), (":path", "/admin")], true)?;
//! let Outcome::LocalReply(reply) = outcome else { panic!("expected a reply, got {outcome:?}") };
//! assert_eq!(reply.status, 403);
//! # Ok::<(), wasmesh_harness::HarnessError>(())
//! ```
//!
//! See the crate's README for the whole tour.
#![deny(missing_docs)]

mod calls;
mod embedder;
mod error;
mod grpc;
mod maps;
mod outcome;
mod plugin;
mod stream;

pub use calls::HttpCall;
pub use embedder::LogLine;
pub use error::HarnessError;
pub use grpc::{GrpcAnswer, GrpcRequest};
pub use outcome::{Outcome, Reply};
pub use plugin::{Plugin, PluginBuilder};
pub use stream::Stream;
pub use wasmesh_host::runtime::VmFailure;

/// The README's example, compiled as a doctest so it stays true to the API.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
