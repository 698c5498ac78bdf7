//! Load balancing as pure logic: the selection policies of the `lb` filter, its configuration
//! and the helpers that turn a request into a hash key.
//!
//! Nothing here reads a clock or a random source: time comes in as nanoseconds and randomness
//! through [`random::Rng`], so every policy is deterministic under test and the filter decides
//! where time and seeds come from. Pingora's split is followed: the endpoint set (discovery) is
//! [`wasmesh_contract::endpoint`], selection is here, and health (ejections) comes from
//! [`wasmesh_contract::health`] through [`Balancer::set_ejected`]. Ejections feed Envoy's
//! priority load model ([`priority`]): each priority level gets a share of the traffic and a
//! policy state of its own ([`candidates`]).

pub mod balancer;
pub mod candidates;
pub mod config;
pub mod hash_key;
pub mod maglev;
pub mod metric;
pub mod p2c;
pub mod peak_ewma;
pub mod priority;
pub mod random;
pub mod ring_hash;
pub mod round_robin;
pub mod weighted;

pub use balancer::{Balancer, LevelView, Outcome};
pub use candidates::Levels;
pub use config::{HashKey, LbConfig, Policy};
