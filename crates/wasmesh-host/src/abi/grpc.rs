//! gRPC calls and streams: `proxy_grpc_call`, `proxy_grpc_stream`, `proxy_grpc_send`,
//! `proxy_grpc_cancel`, `proxy_grpc_close`. Each validates now and queues a command the driver
//! carries out once the callback returns; the answers come back as `proxy_on_grpc_*` callbacks.
//!
//! As in Envoy, the root context makes every call and stream, whichever context asked, and gets
//! the callbacks with its own id (the Rust SDK finds the asking stream by the token). The target
//! is either a cluster's name or a serialized `envoy.config.core.v3.GrpcService` naming one with
//! `envoy_grpc` (what the C++ SDK sends): Envoy tries the message first and falls back to the
//! name. A name that is no cluster the plugin may call is `ParseFailure`, as in Envoy; a message
//! without `envoy_grpc` (Google gRPC, which wasmesh does not have) is `BadArgument`.

use std::time::Duration;

use wasmtime::Linker;

use super::memory::{read, read_string, write_u32};
use super::{finish, AbiError, Caller, Status};
use crate::headers::HeaderMap;
use crate::store::grpc::{CalloutRefusal, GrpcCommand, GrpcTarget, TokenKind};
use crate::store::HostState;

/// Commands one VM may queue before the driver takes them (in practice, within one callback),
/// so a looping filter cannot queue without end.
pub const MAX_COMMANDS_PER_CALLBACK: usize = 1024;

/// The subset of `envoy.config.core.v3.GrpcService` a filter can name a target with.
#[derive(Clone, PartialEq, prost::Message)]
struct GrpcService {
    #[prost(message, optional, tag = "1")]
    envoy_grpc: Option<EnvoyGrpc>,
    #[prost(message, repeated, tag = "5")]
    initial_metadata: Vec<HeaderValue>,
}

/// `GrpcService.EnvoyGrpc`.
#[derive(Clone, PartialEq, prost::Message)]
struct EnvoyGrpc {
    #[prost(string, tag = "1")]
    cluster_name: String,
    #[prost(string, tag = "2")]
    authority: String,
}

/// `envoy.config.core.v3.HeaderValue`.
#[derive(Clone, PartialEq, prost::Message)]
struct HeaderValue {
    #[prost(string, tag = "1")]
    key: String,
    #[prost(string, tag = "2")]
    value: String,
}

/// Resolves what the guest named as the target into a cluster, `:authority` and the service's
/// own initial metadata.
fn resolve(
    state: &HostState,
    service: &[u8],
    metadata: HeaderMap,
    service_name: String,
    method: String,
) -> Result<GrpcTarget, AbiError> {
    use prost::Message;
    let (cluster, authority, mut all_metadata) = match GrpcService::decode(service) {
        Ok(proto) => {
            let envoy = proto.envoy_grpc.ok_or(Status::BadArgument)?;
            if envoy.cluster_name.is_empty() {
                return Err(Status::BadArgument.into());
            }
            let mut service_metadata = HeaderMap::new();
            for header in &proto.initial_metadata {
                service_metadata.add(header.key.as_bytes(), header.value.as_bytes());
            }
            let authority = if envoy.authority.is_empty() {
                envoy.cluster_name.clone()
            } else {
                envoy.authority
            };
            (envoy.cluster_name, authority, service_metadata)
        }
        Err(_) => {
            let name = String::from_utf8(service.to_vec()).map_err(|_| Status::ParseFailure)?;
            if !state.plugin.clusters.contains(&name) {
                return Err(Status::ParseFailure.into());
            }
            (name.clone(), name, HeaderMap::new())
        }
    };
    for (key, value) in metadata.iter() {
        all_metadata.add(key, value);
    }
    Ok(GrpcTarget {
        cluster,
        authority,
        service: service_name,
        method,
        metadata: all_metadata,
    })
}

/// Queues a command that opens a call or stream or carries a message, within the per-callback
/// bound and the plugin's memory limit. (Closing and cancelling are queued without a bound:
/// each happens at most once per open token.)
fn queue(state: &mut HostState, command: GrpcCommand) -> Result<(), AbiError> {
    let queued: usize = state.effects.grpc.iter().map(GrpcCommand::size).sum();
    if state.effects.grpc.len() >= MAX_COMMANDS_PER_CALLBACK
        || queued.saturating_add(command.size()) > state.plugin.memory_bytes
    {
        return Err(Status::InternalFailure.into());
    }
    state.effects.grpc.push(command);
    Ok(())
}

fn refusal(refusal: CalloutRefusal) -> AbiError {
    match refusal {
        CalloutRefusal::WrongKind => Status::BadArgument.into(),
        CalloutRefusal::NotOpen => Status::NotFound.into(),
    }
}

/// Reads the target, service, method and metadata every opening hostcall starts with: its first
/// eight arguments, (pointer, size) of each.
fn read_target(caller: &mut Caller<'_>, args: [u32; 8]) -> Result<GrpcTarget, AbiError> {
    let [service_ptr, service_size, name_ptr, name_size, method_ptr, method_size, metadata_ptr, metadata_size] =
        args;
    let service = read(caller, service_ptr, service_size)?;
    let service_name = read_string(caller, name_ptr, name_size)?;
    let method = read_string(caller, method_ptr, method_size)?;
    let metadata = read(caller, metadata_ptr, metadata_size)?;
    let metadata = HeaderMap::deserialize(&metadata).map_err(|_| Status::BadArgument)?;
    resolve(caller.data(), &service, metadata, service_name, method)
}

/// Registers this family's hostcalls with the linker.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        "env",
        "proxy_grpc_call",
        |mut caller: Caller<'_>,
         service_ptr: u32,
         service_size: u32,
         name_ptr: u32,
         name_size: u32,
         method_ptr: u32,
         method_size: u32,
         metadata_ptr: u32,
         metadata_size: u32,
         message_ptr: u32,
         message_size: u32,
         timeout_ms: u32,
         ret_token: u32| {
            finish((|| {
                let target = read_target(
                    &mut caller,
                    [
                        service_ptr,
                        service_size,
                        name_ptr,
                        name_size,
                        method_ptr,
                        method_size,
                        metadata_ptr,
                        metadata_size,
                    ],
                )?;
                let message = read(&mut caller, message_ptr, message_size)?;
                let state = caller.data_mut();
                let token = state.grpc.open_call();
                let command = GrpcCommand::Call {
                    token,
                    target,
                    message,
                    timeout: (timeout_ms > 0).then(|| Duration::from_millis(timeout_ms.into())),
                };
                if let Err(e) = queue(state, command) {
                    let _ = state.grpc.cancel(token);
                    return Err(e);
                }
                write_u32(&mut caller, ret_token, token)
            })())
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_grpc_stream",
        |mut caller: Caller<'_>,
         service_ptr: u32,
         service_size: u32,
         name_ptr: u32,
         name_size: u32,
         method_ptr: u32,
         method_size: u32,
         metadata_ptr: u32,
         metadata_size: u32,
         ret_token: u32| {
            finish((|| {
                let target = read_target(
                    &mut caller,
                    [
                        service_ptr,
                        service_size,
                        name_ptr,
                        name_size,
                        method_ptr,
                        method_size,
                        metadata_ptr,
                        metadata_size,
                    ],
                )?;
                let state = caller.data_mut();
                let token = state.grpc.open_stream();
                if let Err(e) = queue(state, GrpcCommand::Open { token, target }) {
                    let _ = state.grpc.cancel(token);
                    return Err(e);
                }
                write_u32(&mut caller, ret_token, token)
            })())
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_grpc_send",
        |mut caller: Caller<'_>, token: u32, ptr: u32, size: u32, end_stream: u32| {
            finish((|| {
                caller.data().grpc.check_send(token).map_err(refusal)?;
                let message = read(&mut caller, ptr, size)?;
                let end_stream = end_stream != 0;
                let state = caller.data_mut();
                queue(
                    state,
                    GrpcCommand::Send {
                        token,
                        message,
                        end_stream,
                    },
                )?;
                if end_stream {
                    state.grpc.close_local(token).map_err(refusal)?;
                }
                Ok(())
            })())
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_grpc_cancel",
        |mut caller: Caller<'_>, token: u32| {
            finish((|| {
                let state = caller.data_mut();
                state.grpc.cancel(token).map_err(refusal)?;
                state.effects.grpc.push(GrpcCommand::Cancel { token });
                Ok(())
            })())
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_grpc_close",
        |mut caller: Caller<'_>, token: u32| {
            finish((|| {
                let state = caller.data_mut();
                if state.grpc.close_local(token).map_err(refusal)? {
                    state.effects.grpc.push(match TokenKind::of(token) {
                        TokenKind::Stream => GrpcCommand::Close { token },
                        _ => GrpcCommand::Cancel { token },
                    });
                }
                Ok(())
            })())
        },
    )?;
    Ok(())
}
