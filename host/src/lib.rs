//! wasmesh: a proxy that runs proxy-wasm filters exactly as Envoy does,
//! on wasmtime, with hyper and tokio. The binary's library: `main.rs` runs [`cli`]; the fuzz
//! targets start a [`host::Host`] from a [`config::Config`] and its [`worker`]s in process.
//! Everything else is crate-private, so the compiler reports what nothing uses.
#![deny(missing_docs)]

pub(crate) mod abi_report;
pub(crate) mod admin;
pub mod cli;
pub mod config;
pub(crate) mod dns;
pub(crate) mod endpoints_view;
pub(crate) mod events;
pub(crate) mod heap;
pub mod host;
pub(crate) mod listeners;
pub(crate) mod modules;
pub(crate) mod per_worker_counter;
pub(crate) mod reload_history;
pub(crate) mod singletons;
pub(crate) mod stat;
pub(crate) mod watch;
pub mod worker;
