//! The data plane: accepting HTTP/1.1 and h2c, driving each stream through
//! the filter chain, routing, and talking to upstream clusters.

pub mod admission;
pub mod body;
pub mod connection;
pub mod connector;
pub mod downstream;
pub mod effects;
pub mod h2_frames;
pub mod headers_conv;
pub mod idle;
pub mod local_reply;
pub mod protocol_errors;
pub mod published;
pub mod pumps;
pub mod request;
pub mod respond;
pub mod routing;
pub mod timers;
pub mod upgrade;
pub mod upstream;
pub mod upstream_failure;
pub mod validate;
pub mod worker_view;
