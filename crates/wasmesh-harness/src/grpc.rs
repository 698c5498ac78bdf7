//! gRPC calls and streams a filter opened (`proxy_grpc_call`, `proxy_grpc_stream`) and what it
//! sent on them, and the server's side, given by the test: initial metadata, messages, trailing
//! metadata and the close, delivered as the proxy delivers them (to the root context).

use std::time::Duration;

use wasmesh_host::store::grpc::{GrpcCommand, GrpcReceived};

use crate::error::HarnessError;
use crate::maps::{to_map, to_pairs};
use crate::plugin::Plugin;

/// What the filter asked of a gRPC call or stream, in the order it asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrpcRequest {
    /// A unary call: answer it with one [`GrpcAnswer::Message`] (success) or a
    /// [`GrpcAnswer::Close`] with a non-zero code, as the proxy does.
    Call {
        /// Its token; answers name it.
        token: u32,
        /// The cluster it names.
        cluster: String,
        /// The fully qualified service.
        service: String,
        /// The method.
        method: String,
        /// Its initial metadata.
        metadata: Vec<(String, String)>,
        /// The request message.
        message: Vec<u8>,
        /// Its deadline, if any.
        timeout: Option<Duration>,
    },
    /// A stream was opened.
    Open {
        /// Its token.
        token: u32,
        /// The cluster it names.
        cluster: String,
        /// The fully qualified service.
        service: String,
        /// The method.
        method: String,
        /// Its initial metadata.
        metadata: Vec<(String, String)>,
    },
    /// A message sent on a stream (its sending side ends with it when `end_stream`).
    Send {
        /// The stream.
        token: u32,
        /// The message.
        message: Vec<u8>,
        /// Whether the filter's side ends with it.
        end_stream: bool,
    },
    /// The filter closed its sending side of a stream.
    Close {
        /// The stream.
        token: u32,
    },
    /// The filter cancelled a call or stream: answers to it reach nobody.
    Cancel {
        /// The call or stream.
        token: u32,
    },
}

impl From<GrpcCommand> for GrpcRequest {
    fn from(command: GrpcCommand) -> GrpcRequest {
        match command {
            GrpcCommand::Call {
                token,
                target,
                message,
                timeout,
            } => GrpcRequest::Call {
                token,
                cluster: target.cluster,
                service: target.service,
                method: target.method,
                metadata: to_pairs(&target.metadata),
                message,
                timeout,
            },
            GrpcCommand::Open { token, target } => GrpcRequest::Open {
                token,
                cluster: target.cluster,
                service: target.service,
                method: target.method,
                metadata: to_pairs(&target.metadata),
            },
            GrpcCommand::Send {
                token,
                message,
                end_stream,
            } => GrpcRequest::Send {
                token,
                message,
                end_stream,
            },
            GrpcCommand::Close { token } => GrpcRequest::Close { token },
            GrpcCommand::Cancel { token } => GrpcRequest::Cancel { token },
        }
    }
}

/// What the server sends back, one callback each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrpcAnswer<'a> {
    /// `proxy_on_grpc_receive_initial_metadata`.
    InitialMetadata(&'a [(&'a str, &'a str)]),
    /// `proxy_on_grpc_receive`.
    Message(&'a [u8]),
    /// `proxy_on_grpc_receive_trailing_metadata`.
    TrailingMetadata(&'a [(&'a str, &'a str)]),
    /// `proxy_on_grpc_close` with a gRPC status code and message.
    Close {
        /// The status code (0 OK).
        code: u32,
        /// The status message (`proxy_get_status`).
        message: &'a str,
    },
}

impl Plugin {
    /// Takes what the filter asked of gRPC calls and streams since the last time (in order).
    pub fn grpc_requests(&self) -> Vec<GrpcRequest> {
        self.take_grpc()
    }

    /// Delivers `answer` for call or stream `token`, as the proxy would. Nothing reaches the
    /// filter for a token it cancelled or that is over (a unary call after its answer, a stream
    /// once both sides closed).
    pub fn answer_grpc(&self, token: u32, answer: GrpcAnswer<'_>) -> Result<(), HarnessError> {
        let received = match answer {
            GrpcAnswer::InitialMetadata(pairs) => GrpcReceived::InitialMetadata(to_map(pairs)),
            GrpcAnswer::Message(bytes) => GrpcReceived::Message(bytes.to_vec()),
            GrpcAnswer::TrailingMetadata(pairs) => GrpcReceived::TrailingMetadata(to_map(pairs)),
            GrpcAnswer::Close { code, message } => GrpcReceived::Close {
                code,
                message: message.to_string(),
            },
        };
        self.with_vm(|vm| vm.deliver_grpc(token, received))
    }
}
