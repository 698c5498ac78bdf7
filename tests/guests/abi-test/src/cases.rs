//! The cases, one module per family; `crate::case::CASES` maps `x-abi-case` values to them.

pub mod body;
pub mod body_calls;
pub mod clock;
pub mod close;
pub mod config;
pub mod declare;
pub mod done;
pub mod foreign;
pub mod grpc;
pub mod grpc_echo;
pub mod grpc_ratelimit;
pub mod headers;
pub mod http_call;
pub mod instance;
pub mod local_reply;
pub mod log;
pub mod metrics;
pub mod phases;
pub mod properties;
pub mod queue;
pub mod resume;
pub mod shared_data;
pub mod signature;
pub mod singleton;
pub mod trailers;
pub mod unknown;
