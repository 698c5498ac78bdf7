//! The local rate limiter's pure parts: its configuration and the token-bucket arithmetic.
//! The filter itself only adds the hostcalls (shared data with CAS, clock, local reply).

pub mod bucket;
pub mod config;
pub mod slots;

pub use bucket::{BucketState, Decision, TokenBucket};
pub use config::{KeySource, OnStoreFull, RateLimitConfig};
pub use slots::{KeyDigest, Placement, Salt, SlotEntry};
