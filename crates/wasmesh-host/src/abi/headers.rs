//! Header maps and trailers (request, response, HTTP-call response, gRPC metadata):
//! pairs, single values, add/replace/remove, with the spec's serialization.

use wasmtime::Linker;

use super::memory::{return_bytes, with_bytes, with_two, write_u32};
use super::{finish, AbiError, Caller, Status};
use crate::headers::HeaderMap;
use crate::store::grpc::GrpcReceived;
use crate::store::HostState;

/// The map a `proxy_map_type_t` names in the current context, if readable now.
fn map_mut(state: &mut HostState, map_type: u32) -> Result<&mut HeaderMap, AbiError> {
    let not_available = AbiError::Status(Status::BadArgument);
    match map_type {
        0..=3 => {
            let stream = state.active_stream().ok_or(Status::BadArgument)?;
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
        6 | 7 => {
            let response = state.call_response.as_mut().ok_or(Status::BadArgument)?;
            Ok(if map_type == 6 {
                &mut response.headers
            } else {
                &mut response.trailers
            })
        }
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
            finish((|| {
                let map = map_mut(caller.data_mut(), map_type)?;
                let bytes = if map.is_empty() {
                    Vec::new()
                } else {
                    map.serialize()
                };
                return_bytes(&mut caller, &bytes, ret_ptr, ret_size)
            })())
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
            finish((|| {
                let value = with_bytes(&mut caller, kptr, ksize, |key, state| {
                    let map = map_mut(state, map_type)?;
                    map.get(key)
                        .map(<[u8]>::to_vec)
                        .ok_or(AbiError::Status(Status::NotFound))
                })??;
                return_bytes(&mut caller, &value, ret_ptr, ret_size)
            })())
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
