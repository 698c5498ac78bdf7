//! The `lb` mode: the `lb` filter's `round_robin` and `peak_ewma` over three backends, one of
//! them uniformly slow, in wasmesh and in Envoy. It shows what a latency-aware policy buys:
//! the slow endpoint's share of requests, and the tail latency the client sees.

pub mod backends;
pub mod cases;
pub mod measure;
pub mod report;
