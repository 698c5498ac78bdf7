//! Stream control: continue or close a paused stream, send a local reply,
//! finish a context (`proxy_done`), switch the effective context, and read
//! the status of an HTTP call or a closed gRPC call or stream (`proxy_get_status`).

use wasmtime::Linker;

use super::memory::{read, read_string, return_bytes, write_u32};
use super::{finish, AbiResult, Caller, Status};
use crate::headers::HeaderMap;
use crate::store::grpc::GrpcReceived;
use crate::store::HostState;
use crate::store::LocalReply;

/// Resumes a paused direction. On a connection, `DOWNSTREAM` resumes reading (Envoy's
/// `continueReading`); Envoy has no way to resume the upstream direction and answers
/// `Unimplemented`, and so does wasmesh. On an HTTP stream the connection's directions are
/// not the filter's to resume: `DOWNSTREAM` is `Ok` and does nothing, as in Envoy.
fn continue_stream(state: &mut HostState, stream_type: u32) -> AbiResult {
    let Some(stream) = state.active_stream() else {
        // A root context has no stream to resume: Envoy answers as for a stream's other sides.
        return match stream_type {
            0..=2 => Ok(()),
            3 => Err(Status::Unimplemented.into()),
            _ => Err(Status::BadArgument.into()),
        };
    };
    let connection = stream.connection.is_some();
    match stream_type {
        0 => stream.signals.continue_request = true,
        1 => stream.signals.continue_response = true,
        2 if connection => stream.signals.continue_downstream = true,
        2 => return Ok(()),
        3 => return Err(Status::Unimplemented.into()),
        _ => return Err(Status::BadArgument.into()),
    }
    stream.wake();
    Ok(())
}

/// Resets an HTTP stream (`HTTP_REQUEST` or `HTTP_RESPONSE`), or closes a connection
/// (`DOWNSTREAM` or `UPSTREAM` on a network filter's context). Envoy answers `Ok` and does
/// nothing for the other pairs (a connection's side on an HTTP stream, an HTTP direction on a
/// connection), and so does wasmesh.
fn close_stream(state: &mut HostState, stream_type: u32) -> AbiResult {
    if stream_type > 3 {
        return Err(Status::BadArgument.into());
    }
    let Some(stream) = state.active_stream() else {
        return Ok(()); // a root context has nothing to close; Envoy answers `Ok`
    };
    match (stream.connection.is_some(), stream_type) {
        (true, 2) => stream.signals.close_downstream = true,
        (true, 3) => stream.signals.close_upstream = true,
        (false, 0 | 1) => stream.signals.close = true,
        _ => return Ok(()),
    }
    stream.wake();
    Ok(())
}

/// Registers this family's hostcalls with the linker.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        "env",
        "proxy_continue_stream",
        |mut caller: Caller<'_>, stream_type: u32| {
            finish(continue_stream(caller.data_mut(), stream_type))
        },
    )?;
    // ABI 0.1.0 / C++ SDK spellings of the same operations.
    linker.func_wrap("env", "proxy_continue_request", |mut caller: Caller<'_>| {
        finish(continue_stream(caller.data_mut(), 0))
    })?;
    linker.func_wrap(
        "env",
        "proxy_continue_response",
        |mut caller: Caller<'_>| finish(continue_stream(caller.data_mut(), 1)),
    )?;
    linker.func_wrap("env", "proxy_clear_route_cache", |_: Caller<'_>| {
        // Routes are matched after the request filters have run, so there is no cache to clear.
        finish(Ok(()))
    })?;
    linker.func_wrap(
        "env",
        "proxy_close_stream",
        |mut caller: Caller<'_>, stream_type: u32| {
            finish(close_stream(caller.data_mut(), stream_type))
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_send_local_response",
        |mut caller: Caller<'_>,
         status: u32,
         details_ptr: u32,
         details_size: u32,
         body_ptr: u32,
         body_size: u32,
         headers_ptr: u32,
         headers_size: u32,
         grpc_status: i32| {
            finish((|| {
                let details = read_string(&mut caller, details_ptr, details_size)?;
                let body = read(&mut caller, body_ptr, body_size)?;
                let headers = read(&mut caller, headers_ptr, headers_size)?;
                let headers = HeaderMap::deserialize(&headers).map_err(|_| Status::BadArgument)?;
                if !(100..=999).contains(&status) {
                    return Err(Status::BadArgument.into());
                }
                let stream = caller.data_mut().active_stream().ok_or(Status::NotFound)?;
                stream.signals.local_reply = Some(LocalReply {
                    status: status as u16,
                    headers,
                    body,
                    details,
                    grpc_status: u32::try_from(grpc_status).ok(),
                });
                stream.wake();
                Ok(())
            })())
        },
    )?;
    linker.func_wrap("env", "proxy_done", |mut caller: Caller<'_>| {
        let state = caller.data_mut();
        let ctx = state.active_context;
        if state.pending_done.remove(&ctx) {
            finish(Ok(()))
        } else {
            finish(Err(Status::NotFound.into()))
        }
    })?;
    linker.func_wrap(
        "env",
        "proxy_set_effective_context",
        |mut caller: Caller<'_>, ctx: u32| {
            let state = caller.data_mut();
            // Any context in the VM, another plugin's too (its plugin's facts apply until the
            // callback returns, when the driver's root is entered again).
            let root = match state.streams.get(&ctx) {
                Some(stream) => stream.root,
                None => ctx,
            };
            if state.enter(root) {
                state.active_context = ctx;
                finish(Ok(()))
            } else {
                finish(Err(Status::BadArgument.into()))
            }
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_status",
        |mut caller: Caller<'_>, ret_code: u32, ret_ptr: u32, ret_size: u32| {
            finish((|| {
                let state = caller.data();
                let (code, message): (u32, Vec<u8>) =
                    match (&state.grpc_received, &state.call_response) {
                        // The status a gRPC call or stream closed with, during its close callback.
                        (Some(GrpcReceived::Close { code, message }), _) => {
                            (*code, message.as_bytes().to_vec())
                        }
                        // gRPC-style codes, as Envoy reports them: 0 whenever the call has a
                        // response, 14 (unavailable) for an answer without headers (Envoy's
                        // `onFailure`; the wasmesh proxy always synthesizes a 503 or 504 instead).
                        (_, Some(response)) if response.headers.is_empty() => {
                            (14, b"upstream failure".to_vec())
                        }
                        // Outside a failed call's callback: 0. (Envoy answers the code it
                        // recorded last, which is 0 until a call or stream ends.)
                        _ => (0, Vec::new()),
                    };
                write_u32(&mut caller, ret_code, code)?;
                return_bytes(&mut caller, &message, ret_ptr, ret_size)
            })())
        },
    )?;
    Ok(())
}
