//! Header maps and trailers (request, response, HTTP-call response, gRPC metadata):
//! pairs, single values, add/replace/remove, with the spec's serialization, and Envoy's
//! answers for a map the current phase does not have (the README's hostcall × phase table).

use wasmtime::Linker;

use super::memory::{return_filled, with_bytes, with_two, write_u32};
use super::{finish, AbiError, Caller, Status};
use crate::headers::HeaderMap;
use crate::store::grpc::GrpcReceived;
use crate::store::HostState;

/// The highest `proxy_map_type_t` (HTTP-call response trailers).
const LAST_MAP: u32 = 7;

/// The map a `proxy_map_type_t` names, to read, with Envoy's answers: `Some` when the current
/// context has it now, `None` when it reads as empty (`on_log` reads every map, a missing one
/// as empty), `BadArgument` when it is not there. Trailers nobody sent or added are not there
/// (the map a body's end offers for adding them is created by the first change, in Envoy), nor
/// are an HTTP call's answer's without any.
fn map_ref(state: &mut HostState, map_type: u32) -> Result<Option<&HeaderMap>, AbiError> {
    let logging = state.active_stream().is_some_and(|stream| stream.logging);
    let found = match map_type {
        0..=3 => state.active_stream().and_then(|stream| match map_type {
            0 => stream.request_headers.as_ref(),
            1 => stream
                .request_trailers
                .as_ref()
                .filter(|map| !map.is_empty()),
            2 => stream.response_headers.as_ref(),
            _ => stream
                .response_trailers
                .as_ref()
                .filter(|map| !map.is_empty()),
        }),
        4 | 5 => match (&state.grpc_received, map_type) {
            (Some(GrpcReceived::InitialMetadata(map)), 4)
            | (Some(GrpcReceived::TrailingMetadata(map)), 5) => Some(map),
            _ => None,
        },
        6 | 7 => state
            .call_response
            .as_ref()
            .map(|response| (&response.headers, &response.trailers))
            .and_then(|(headers, trailers)| match map_type {
                6 => Some(headers),
                _ => (!trailers.is_empty()).then_some(trailers),
            }),
        _ => return Err(Status::BadArgument.into()),
    };
    match found {
        Some(map) => Ok(Some(map)),
        None if logging => Ok(None),
        None => Err(Status::BadArgument.into()),
    }
}

/// The map a `proxy_map_type_t` names, to change (or size, which Envoy answers only for a map
/// it could change): the stream's maps while their phase lasts, a gRPC callback's metadata.
/// `on_log` changes nothing, and an HTTP call's answer is read-only, as in Envoy.
fn map_mut(state: &mut HostState, map_type: u32) -> Result<&mut HeaderMap, AbiError> {
    let not_available = AbiError::Status(Status::BadArgument);
    match map_type {
        0..=3 => {
            let stream = state.active_stream().ok_or(Status::BadArgument)?;
            if stream.logging {
                return Err(not_available);
            }
            let map = match map_type {
                0 => &mut stream.request_headers,
                1 => &mut stream.request_trailers,
                2 => &mut stream.response_headers,
                _ => &mut stream.response_trailers,
            };
            map.as_mut().ok_or(not_available)
        }
        4 | 5 => match (&mut state.grpc_received, map_type) {
            (Some(GrpcReceived::InitialMetadata(map)), 4)
            | (Some(GrpcReceived::TrailingMetadata(map)), 5) => Ok(map),
            _ => Err(not_available),
        },
        _ => Err(not_available),
    }
}

/// Registers this family's hostcalls with the linker.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        "env",
        "proxy_get_header_map_size",
        |mut caller: Caller<'_>, map_type: u32, ret_size: u32| {
            finish((|| {
                // Envoy answers the sum of name and value lengths (not the serialized
                // size the spec text describes); filters are written against Envoy.
                let size: usize = map_mut(caller.data_mut(), map_type)?
                    .iter()
                    .map(|(k, v)| k.len() + v.len())
                    .sum();
                write_u32(&mut caller, ret_size, size as u32)
            })())
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_header_map_pairs",
        |mut caller: Caller<'_>, map_type: u32, ret_ptr: u32, ret_size: u32| {
            finish(return_filled(
                &mut caller,
                ret_ptr,
                ret_size,
                |caller, out| {
                    // Envoy answers every map it knows, present or not: a missing one is empty.
                    match map_ref(caller.data_mut(), map_type) {
                        Ok(Some(map)) if !map.is_empty() => map.serialize_into(out),
                        Ok(_) => {}
                        Err(_) if map_type <= LAST_MAP => {}
                        Err(error) => return Err(error),
                    }
                    Ok(())
                },
            ))
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_set_header_map_pairs",
        |mut caller: Caller<'_>, map_type: u32, ptr: u32, size: u32| {
            finish((|| {
                with_bytes(&mut caller, ptr, size, |bytes, state| {
                    let new = HeaderMap::deserialize(bytes).map_err(|_| Status::BadArgument)?;
                    *map_mut(state, map_type)? = new;
                    Ok::<(), AbiError>(())
                })?
            })())
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_header_map_value",
        |mut caller: Caller<'_>,
         map_type: u32,
         kptr: u32,
         ksize: u32,
         ret_ptr: u32,
         ret_size: u32| {
            finish(return_filled(
                &mut caller,
                ret_ptr,
                ret_size,
                |caller, out| {
                    with_bytes(caller, kptr, ksize, |key, state| {
                        let value = map_ref(state, map_type)?
                            .and_then(|map| map.get(key))
                            .ok_or(AbiError::Status(Status::NotFound))?;
                        out.extend_from_slice(value);
                        Ok(())
                    })?
                },
            ))
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_add_header_map_value",
        |mut caller: Caller<'_>, map_type: u32, kptr: u32, ksize: u32, vptr: u32, vsize: u32| {
            finish(
                with_two(&mut caller, (kptr, ksize), (vptr, vsize), |k, v, state| {
                    map_mut(state, map_type)?.add(k, v);
                    Ok(())
                })
                .and_then(|r| r),
            )
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_replace_header_map_value",
        |mut caller: Caller<'_>, map_type: u32, kptr: u32, ksize: u32, vptr: u32, vsize: u32| {
            finish(
                with_two(&mut caller, (kptr, ksize), (vptr, vsize), |k, v, state| {
                    map_mut(state, map_type)?.replace(k, v);
                    Ok(())
                })
                .and_then(|r| r),
            )
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_remove_header_map_value",
        |mut caller: Caller<'_>, map_type: u32, kptr: u32, ksize: u32| {
            finish(
                with_bytes(&mut caller, kptr, ksize, |k, state| {
                    map_mut(state, map_type)?.remove(k);
                    Ok(())
                })
                .and_then(|r| r),
            )
        },
    )?;
    Ok(())
}
