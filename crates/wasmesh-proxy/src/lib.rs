//! The wasmesh data plane: accepting HTTP/1.1 and h2c, driving each stream through the
//! proxy-wasm filter chain (`wasmesh_host::chain`), routing, and talking to upstream clusters.
//!
//! An embedder (the `wasmesh` binary is one) builds [`Upstreams`] and the filter chain for each
//! configuration generation, implements [`WorkerView`] for the thread that serves, and runs
//! [`accept_loop`] per listener and [`start_pump`] per plugin slot on a tokio `LocalSet`. What
//! it serves is described by the plain types in [`spec`]; what every worker shares (connection
//! limits and circuit breakers) is in [`overload`]. Everything else is crate-private, so the
//! compiler reports what nothing uses.
#![deny(missing_docs)]

mod accept;
pub mod access_log;
mod admission;
mod body;
mod connection;
mod connector;
mod downstream;
mod effects;
mod grpc;
mod h2_frames;
mod header_names;
mod headers_conv;
mod idle;
mod local_reply;
pub mod overload;
mod polled_when_woken;
mod protocol_errors;
mod published;
mod pumps;
mod request;
mod respond;
mod routing;
pub mod spec;
mod tcp_proxy;
mod timers;
pub mod tls;
mod upgrade;
mod upstream;
mod upstream_failure;
mod validate;
mod worker_view;

pub use accept::after_accept_error;
pub use connection::accept_loop;
pub use effects::{start_pump, PumpUpstreams};
pub use upstream::Upstreams;
pub use worker_view::{route_names, ListenerLocal, WorkerView};
