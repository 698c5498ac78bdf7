//! Hostcalls made directly, returning the raw status code.
//!
//! The SDK panics on any status it does not expect (and cannot even represent
//! `Unimplemented`), which would turn "the hosts answer differently" into a trapped VM and a
//! 503. The calls whose status is itself the result under test go through here instead.
//! These are the same `env` imports the SDK declares, with the same wasm signatures.

#![allow(unsafe_code)] // FFI to the host: the only way to see raw statuses.

use std::ptr::null_mut;

use proxy_wasm::types::{BufferType, MapType};

use crate::imports::*;

/// Where a gRPC call or stream goes: cluster, service, method.
pub struct GrpcTarget<'a> {
    /// The upstream (cluster) name.
    pub upstream: &'a str,
    /// Fully qualified service name, e.g. `abi.Test`.
    pub service: &'a str,
    /// Method name.
    pub method: &'a str,
}

/// `proxy_get_log_level`: (status, level). The level is raw: Envoy can answer 6 ("off"),
/// which the SDK's `LogLevel` cannot hold.
pub fn get_log_level() -> (u32, u32) {
    let mut level = u32::MAX;
    // SAFETY: the host writes one u32 to a valid local.
    let status = unsafe { proxy_get_log_level(&mut level) };
    (status, level)
}

/// `proxy_add_header_map_value`: adding a trailer is legitimately refused (`BadArgument`)
/// outside the end-of-stream body callback, so the status is the result.
pub fn add_map_value(map: MapType, key: &str, value: &str) -> u32 {
    // SAFETY: pointers and lengths come from live slices.
    unsafe {
        proxy_add_header_map_value(
            map as u32,
            key.as_ptr(),
            key.len(),
            value.as_ptr(),
            value.len(),
        )
    }
}

/// `proxy_get_buffer_status` (not exposed by the SDK): (status, size, flags).
pub fn get_buffer_status(buffer: BufferType) -> (u32, usize, u32) {
    let mut size = 0usize;
    let mut flags = 0u32;
    // SAFETY: the host writes to two valid locals.
    let status = unsafe { proxy_get_buffer_status(buffer as u32, &mut size, &mut flags) };
    (status, size, flags)
}

/// `proxy_get_header_map_size` (not exposed by the SDK): (status, size).
pub fn get_map_size(map: MapType) -> (u32, usize) {
    let mut size = 0usize;
    // SAFETY: the host writes to a valid local.
    let status = unsafe { proxy_get_header_map_size(map as u32, &mut size) };
    (status, size)
}

/// `proxy_get_status`: (status, code, message bytes).
pub fn get_status() -> (u32, u32, Option<Vec<u8>>) {
    let mut code = 0u32;
    let mut data: *mut u8 = null_mut();
    let mut size = 0usize;
    // SAFETY: the host writes to valid locals; a returned buffer was allocated for us with
    // `proxy_on_memory_allocate` and is taken over exactly once by `take`.
    unsafe {
        let status = proxy_get_status(&mut code, &mut data, &mut size);
        let message = if status == 0 { take(data, size) } else { None };
        (status, code, message)
    }
}

/// `proxy_done`: per spec `NotFound` unless the active context is pending finalization.
pub fn done() -> u32 {
    // SAFETY: no arguments.
    unsafe { proxy_done() }
}

/// `proxy_set_property` of a one-segment path: the status (the SDK panics on a refusal, which
/// a read-only property legitimately gets).
pub fn set_property(name: &str, value: &[u8]) -> u32 {
    // SAFETY: pointers and lengths come from live slices.
    unsafe { proxy_set_property(name.as_ptr(), name.len(), value.as_ptr(), value.len()) }
}

/// `proxy_grpc_call`: (status, call id).
pub fn grpc_call(
    target: &GrpcTarget<'_>,
    metadata: &[(&str, &[u8])],
    message: &[u8],
    timeout_ms: u32,
) -> (u32, u32) {
    let metadata = serialize_pairs(metadata);
    let mut id = 0u32;
    // SAFETY: pointers and lengths come from live slices; the host writes one u32.
    let status = unsafe {
        proxy_grpc_call(
            target.upstream.as_ptr(),
            target.upstream.len(),
            target.service.as_ptr(),
            target.service.len(),
            target.method.as_ptr(),
            target.method.len(),
            metadata.as_ptr(),
            metadata.len(),
            message.as_ptr(),
            message.len(),
            timeout_ms,
            &mut id,
        )
    };
    (status, id)
}

/// `proxy_grpc_stream`: (status, stream id).
pub fn grpc_stream(target: &GrpcTarget<'_>, metadata: &[(&str, &[u8])]) -> (u32, u32) {
    let metadata = serialize_pairs(metadata);
    let mut id = 0u32;
    // SAFETY: pointers and lengths come from live slices; the host writes one u32.
    let status = unsafe {
        proxy_grpc_stream(
            target.upstream.as_ptr(),
            target.upstream.len(),
            target.service.as_ptr(),
            target.service.len(),
            target.method.as_ptr(),
            target.method.len(),
            metadata.as_ptr(),
            metadata.len(),
            &mut id,
        )
    };
    (status, id)
}

/// `proxy_grpc_send`.
pub fn grpc_send(stream_id: u32, message: &[u8], end_stream: bool) -> u32 {
    // SAFETY: pointer and length come from a live slice.
    unsafe { proxy_grpc_send(stream_id, message.as_ptr(), message.len(), end_stream) }
}

/// `proxy_grpc_cancel`.
pub fn grpc_cancel(id: u32) -> u32 {
    // SAFETY: plain integer argument.
    unsafe { proxy_grpc_cancel(id) }
}

/// `proxy_grpc_close`.
pub fn grpc_close(id: u32) -> u32 {
    // SAFETY: plain integer argument.
    unsafe { proxy_grpc_close(id) }
}

/// Takes ownership of a buffer the host allocated through `proxy_on_memory_allocate` (the
/// SDK's allocator: a boxed slice of exactly `size` bytes).
///
/// # Safety
/// `data` must be null or a pointer the host got from `proxy_on_memory_allocate(size)` and
/// handed to us, not yet taken.
unsafe fn take(data: *mut u8, size: usize) -> Option<Vec<u8>> {
    if data.is_null() {
        None
    } else {
        Some(Vec::from_raw_parts(data, size, size))
    }
}

/// A header/metadata map in the spec's serialization: count, (key length, value length)
/// pairs, then each key and value followed by a NUL. An empty map is 4 zero bytes.
fn serialize_pairs(pairs: &[(&str, &[u8])]) -> Vec<u8> {
    let len32 = |n: usize| u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes();
    let mut out = Vec::new();
    out.extend_from_slice(&len32(pairs.len()));
    for (key, value) in pairs {
        out.extend_from_slice(&len32(key.len()));
        out.extend_from_slice(&len32(value.len()));
    }
    for (key, value) in pairs {
        out.extend_from_slice(key.as_bytes());
        out.push(0);
        out.extend_from_slice(value);
        out.push(0);
    }
    out
}
