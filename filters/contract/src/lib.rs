//! What the wasmesh host and the filters both read and write: shared-data key names, the
//! endpoint-set document `discovery` (or the host's DNS discovery) publishes and `lb` and
//! `failover` read, the health document `failover` writes and `lb` and the admin read, and
//! the metric naming and exposition conventions the host renders and the tests parse, and the
//! spec's pair serialization both sides read and write.
//!
//! A change here is a change of format between separately built programs (a filter may be
//! hot-swapped under a running host), which is why it lives apart from the filters' policies
//! in `wasmesh-common`. Everything is unit-tested natively with
//! `cargo test -p wasmesh-contract`.

#![deny(missing_docs)]

pub mod discovery_metric;
pub mod endpoint;
pub mod exposition;
pub mod health;
pub mod keys;
pub mod metric_name;
pub mod pairs;
pub mod publish;
