//! What a filter did with a callback, as a test asserts it.

use wasmesh_host::store::LocalReply;

use crate::maps::{first, to_pairs};

/// How a callback ended for the stream, in the order a proxy checks: a local reply the filter
/// sent wins over a reset, which wins over the status the callback returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The filter let the data through (`Continue`).
    Continue,
    /// The filter stopped iteration (headers: until it continues the stream; bodies: the
    /// proxy buffers until it does or a later body callback continues).
    Pause,
    /// The filter answered the client itself (`proxy_send_local_response`).
    LocalReply(Reply),
    /// The filter reset the stream (`proxy_close_stream`).
    Reset,
}

/// A local reply a filter sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Headers the filter added.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
    /// `status_code_details` (Envoy logs it as `response.code_details`).
    pub details: String,
    /// The gRPC status the filter chose, if any.
    pub grpc_status: Option<u32>,
}

impl Reply {
    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        first(&self.headers, name)
    }

    /// The body as text (lossy).
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl From<LocalReply> for Reply {
    fn from(reply: LocalReply) -> Reply {
        Reply {
            status: reply.status,
            headers: to_pairs(&reply.headers),
            body: reply.body,
            details: reply.details,
            grpc_status: reply.grpc_status,
        }
    }
}
