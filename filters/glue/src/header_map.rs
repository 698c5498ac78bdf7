//! A header map read from the host as the one buffer it serializes it into.
//!
//! The SDK's `get_map` decodes that buffer into a `String` pair per header, checking and
//! allocating each name and value; a filter that only keeps the headers (the `failover`
//! filter's replay, which most requests never use) keeps the buffer instead and decodes it
//! when it needs to (`wasmesh_common::failover::captured`). The SDK does not hand the buffer
//! out, so this calls the ABI function it calls.
// The one place a filter calls the ABI itself: an import declared as the SDK declares it,
// and a buffer taken back as the SDK takes it back.
#![allow(unsafe_code)]

use std::ptr::null_mut;

use proxy_wasm::types::{MapType, Status};

extern "C" {
    fn proxy_get_header_map_pairs(
        map_type: MapType,
        return_map_data: *mut *mut u8,
        return_map_size: *mut usize,
    ) -> Status;
}

/// `map` in the spec's pair serialization; empty when the host has none or refuses.
pub fn serialized_pairs(map: MapType) -> Vec<u8> {
    let mut data: *mut u8 = null_mut();
    let mut size: usize = 0;
    // SAFETY: the host writes a pointer and a size into the two locals. On success the pointer
    // is null or a buffer of exactly `size` bytes that the host obtained from this module's
    // `proxy_on_memory_allocate`, which the SDK implements as a `Vec<u8>` of that capacity,
    // leaked: rebuilding that `Vec` hands the allocation back to its owner, as the SDK does.
    unsafe {
        match proxy_get_header_map_pairs(map, &mut data, &mut size) {
            Status::Ok if !data.is_null() => Vec::from_raw_parts(data, size, size),
            _ => Vec::new(),
        }
    }
}
