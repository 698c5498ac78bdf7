//! wasmesh: a proxy that runs proxy-wasm filters exactly as Envoy does,
//! on wasmtime, with hyper and tokio.
#![deny(missing_docs)]

pub mod admin;
pub mod cli;
pub mod config;
pub mod dns;
pub mod endpoints_view;
pub mod events;
pub mod heap;
pub mod host;
pub mod listeners;
pub mod overload;
pub mod proxy;
pub mod stat;
pub mod watch;
pub mod worker;
