//! A small HTTP/1.1 + h2c echo backend.
//!
//! It exists so the demo and the end-to-end tests have an upstream that *shows what it received*:
//! every response is a JSON echo of the request (method, path, headers, body), so a test can assert
//! on what a filter did to the request on its way through a proxy. A few paths shape the response
//! (`/status/<code>`, `/delay?ms=N`, `/bytes?n=N`, `/stream?chunks=N`) for error, timeout, size and
//! streaming cases. See [`service`] for the exact behaviour. [`ExtraDelay`] makes a whole backend
//! answer late, for load-balancing measurements; [`Flaky`] makes it fail every n-th request with
//! 503, for retry tests.
#![deny(missing_docs)]

mod delay;
mod flaky;
mod handle;
mod server;
pub mod service;
mod stream_body;
mod websocket;

pub use delay::ExtraDelay;
pub use flaky::Flaky;
pub use handle::{Backend, BackendHandle};
pub use server::{serve, serve_delayed, serve_shaped};
