//! Buffers: request/response bodies (the chunk or everything buffered so
//! far), a connection's downstream and upstream bytes (network filters), the HTTP-call response
//! body, a received gRPC message, and the VM and plugin configuration.

use wasmtime::Linker;

use super::memory::{return_bytes, with_bytes, write_u32};
use super::{finish, AbiError, Caller, Status};
use crate::store::grpc::GrpcReceived;
use crate::store::HostState;

/// Read access to a buffer, with Envoy's answers: an HTTP body the current phase does not
/// have reads as empty (in any context), the HTTP call's body and a gRPC message only during
/// their callbacks, the plugin configuration only while the root starts (`proxy_on_vm_start`,
/// `proxy_on_configure`), the VM configuration always.
fn buffer(state: &mut HostState, buffer_type: u32) -> Result<&[u8], AbiError> {
    let missing = AbiError::Status(Status::NotFound);
    match buffer_type {
        0 | 1 => {
            let Some(stream) = state.active_stream() else {
                return Ok(&[]);
            };
            let body = if buffer_type == 0 {
                &stream.request_body
            } else {
                &stream.response_body
            };
            Ok(body.as_deref().unwrap_or_default())
        }
        2 | 3 => {
            let stream = state.active_stream().ok_or(Status::NotFound)?;
            let data = stream.connection.as_ref().ok_or(Status::NotFound)?;
            let bytes = if buffer_type == 2 {
                &data.downstream
            } else {
                &data.upstream
            };
            bytes.as_deref().ok_or(missing)
        }
        4 => state
            .call_response
            .as_ref()
            .map(|r| r.body.as_slice())
            .ok_or(missing),
        5 => match &state.grpc_received {
            Some(GrpcReceived::Message(message)) => Ok(message.as_slice()),
            _ => Err(missing),
        },
        6 => Ok(&state.plugin.vm_config),
        7 if state.starting => Ok(&state.plugin.configuration),
        7 | 8 => Err(missing),
        _ => Err(Status::BadArgument.into()),
    }
}

/// Write access, with Envoy's answers: an HTTP body during its own callback, a connection's
/// bytes during theirs; `BadArgument` for a body the phase does not have and for the buffers
/// the guest may only read (a present HTTP-call body, the configurations), `NotFound` for one
/// that is not there.
fn body_mut(state: &mut HostState, buffer_type: u32) -> Result<&mut Vec<u8>, AbiError> {
    let read_only = AbiError::Status(Status::BadArgument);
    match buffer_type {
        0 | 1 => {
            let stream = state.active_stream().ok_or(Status::BadArgument)?;
            let body = if buffer_type == 0 {
                &mut stream.request_body
            } else {
                &mut stream.response_body
            };
            body.as_mut().ok_or(read_only)
        }
        2 | 3 => {
            let stream = state.active_stream().ok_or(Status::NotFound)?;
            let data = stream.connection.as_mut().ok_or(Status::NotFound)?;
            let bytes = if buffer_type == 2 {
                &mut data.downstream
            } else {
                &mut data.upstream
            };
            bytes.as_mut().ok_or(AbiError::Status(Status::NotFound))
        }
        4 if state.call_response.is_some() => Err(read_only),
        6 => Err(read_only),
        7 if state.starting => Err(read_only),
        4 | 5 | 7 | 8 => Err(Status::NotFound.into()),
        _ => Err(Status::BadArgument.into()),
    }
}

/// Replaces `size` bytes at `start` with `value`: prepend (0,0), append
/// (`start` >= length), replace or inject otherwise, as the spec defines.
pub fn splice(body: &mut Vec<u8>, start: usize, size: usize, value: &[u8]) {
    if start >= body.len() {
        body.extend_from_slice(value);
        return;
    }
    let end = start.saturating_add(size).min(body.len());
    body.splice(start..end, value.iter().copied());
}

/// Registers this family's hostcalls with the linker.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        "env",
        "proxy_get_buffer_status",
        |mut caller: Caller<'_>, buffer_type: u32, ret_size: u32, ret_flags: u32| {
            finish((|| {
                let len = buffer(caller.data_mut(), buffer_type)?.len();
                write_u32(&mut caller, ret_size, len as u32)?;
                write_u32(&mut caller, ret_flags, 0)
            })())
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_buffer_bytes",
        |mut caller: Caller<'_>,
         buffer_type: u32,
         start: u32,
         max: u32,
         ret_ptr: u32,
         ret_size: u32| {
            finish((|| {
                let data = buffer(caller.data_mut(), buffer_type)?;
                let start = start as usize;
                if start > data.len() {
                    return Err(Status::BadArgument.into());
                }
                let end = start.saturating_add(max as usize).min(data.len());
                let bytes = data[start..end].to_vec();
                return_bytes(&mut caller, &bytes, ret_ptr, ret_size)
            })())
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_set_buffer_bytes",
        |mut caller: Caller<'_>, buffer_type: u32, start: u32, size: u32, ptr: u32, len: u32| {
            finish(
                with_bytes(&mut caller, ptr, len, |value, state| {
                    let body = body_mut(state, buffer_type)?;
                    splice(body, start as usize, size as usize, value);
                    Ok(())
                })
                .and_then(|r| r),
            )
        },
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::splice;

    #[test]
    fn splice_prepends_appends_and_replaces() {
        let mut body = b"world".to_vec();
        splice(&mut body, 0, 0, b"hello ");
        assert_eq!(body, b"hello world");
        splice(&mut body, usize::MAX, 0, b"!");
        assert_eq!(body, b"hello world!");
        let len = body.len();
        splice(&mut body, 0, len, b"new");
        assert_eq!(body, b"new");
        splice(&mut body, 1, 1, b"XY");
        assert_eq!(body, b"nXYw");
    }
}
