//! Failover as pure logic: outlier detection (consecutive failures → ejection), the shared
//! health document every worker and the `lb` filter read, the retry budget, backoff, which
//! outcomes are retryable, how the retry's endpoint is chosen, and the retry state machine
//! of every stream ([`retry::Retries`], acting through [`retry::Effects`]).
//!
//! Like [`crate::lb`], nothing here reads a clock or a random source: time comes in as
//! milliseconds and randomness through [`crate::lb::random::Rng`], so every rule is
//! deterministic under test and the `failover` filter is thin glue over it.

pub mod backoff;
pub mod budget;
pub mod captured;
pub mod classify;
pub mod config;
pub mod flight;
pub mod metric;
pub mod outlier;
pub mod pick;
pub mod replay;
pub mod retry;
pub mod schedule;

pub use classify::{Outcome, RetryOn};
pub use config::FailoverConfig;
