//! `proxy_http_call`: validates the call now and queues it; the worker
//! sends it once the callback returns and answers with
//! `proxy_on_http_call_response`. A call that gets no response is answered as Envoy's router
//! answers it: 504 `upstream request timeout` after its timeout, 503 with Envoy's reset words
//! otherwise (never zero headers).
//!
//! As in Envoy, the root context makes every call, whichever context asked, and the answer is
//! delivered to the root with the root's id: SDKs that look the callback up by context id (Go,
//! AssemblyScript) find it there, and the Rust SDK finds the asking stream by the token and
//! switches to it with `proxy_set_effective_context`. The call outlives the asking stream.
//! Envoy checks only that `:method`, `:path` and `:authority` are present; an empty
//! `:authority` is accepted (an empty method or path still is not: it could not be sent).

use std::time::Duration;

use wasmtime::Linker;

use super::memory::{read, read_string, write_u32};
use super::{finish, Caller, Status};
use crate::headers::HeaderMap;
use crate::store::HostState;
use crate::store::PendingHttpCall;

/// Calls one VM may dispatch before the worker's effects pump takes them (in practice, within
/// one callback), so a looping filter cannot queue without end; once sent, calls count against
/// the target cluster's circuit breakers.
pub const MAX_CALLS_PER_CALLBACK: usize = 1024;

/// Registers this family's hostcalls with the linker.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        "env",
        "proxy_http_call",
        |mut caller: Caller<'_>,
         uptr: u32,
         usize_: u32,
         hptr: u32,
         hsize: u32,
         bptr: u32,
         bsize: u32,
         tptr: u32,
         tsize: u32,
         timeout_ms: u32,
         ret_token: u32| {
            finish((|| {
                let cluster = read_string(&mut caller, uptr, usize_)?;
                let headers = read(&mut caller, hptr, hsize)?;
                let body = read(&mut caller, bptr, bsize)?;
                let trailers = read(&mut caller, tptr, tsize)?;
                let headers = HeaderMap::deserialize(&headers).map_err(|_| Status::BadArgument)?;
                let trailers =
                    HeaderMap::deserialize(&trailers).map_err(|_| Status::BadArgument)?;
                let state = caller.data_mut();
                if !state.plugin.clusters.contains(&cluster) {
                    return Err(Status::BadArgument.into());
                }
                if headers.get(b":authority").is_none() {
                    return Err(Status::BadArgument.into());
                }
                for required in [":method", ":path"] {
                    if headers
                        .get(required.as_bytes())
                        .is_none_or(|v| v.is_empty())
                    {
                        return Err(Status::BadArgument.into());
                    }
                }
                if state.effects.http_calls.len() >= MAX_CALLS_PER_CALLBACK {
                    return Err(Status::InternalFailure.into());
                }
                let token = state.fresh_id();
                state.calls_in_flight.insert(token);
                let context_id = state.root_context;
                state.effects.http_calls.push(PendingHttpCall {
                    token,
                    context_id,
                    cluster,
                    headers,
                    body,
                    trailers,
                    timeout: Duration::from_millis(timeout_ms.max(1) as u64),
                });
                write_u32(&mut caller, ret_token, token)
            })())
        },
    )?;
    Ok(())
}
