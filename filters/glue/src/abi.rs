//! The ABI functions a filter calls itself rather than through the SDK, where the SDK's
//! wrapper does work the caller throws away:
//!
//! - a header map as the one buffer the host serializes it into: the SDK's `get_map` decodes
//!   that buffer into a `String` pair per header, checking and allocating each name and value,
//!   though a filter that only keeps the headers (the `failover` filter's replay, which most
//!   requests never use) can keep the buffer and decode it when it needs to
//!   (`wasmesh_common::failover::captured`);
//! - the host's time as the nanoseconds the host gives: the SDK turns them into a
//!   `SystemTime`, which [`crate::clock`] turned back into nanoseconds with 128-bit
//!   arithmetic, on every request of every filter.
// The one place a filter calls the ABI itself: imports declared as the SDK declares them, and
// a buffer taken back as the SDK takes it back.
#![allow(unsafe_code)]

use std::ptr::null_mut;

use proxy_wasm::types::{MapType, Status};

extern "C" {
    fn proxy_get_header_map_pairs(
        map_type: MapType,
        return_map_data: *mut *mut u8,
        return_map_size: *mut usize,
    ) -> Status;
    fn proxy_get_current_time_nanoseconds(return_time: *mut u64) -> Status;
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

/// The host's time in unix nanoseconds; `None` when the host refuses.
pub fn current_time_ns() -> Option<u64> {
    let mut nanos: u64 = 0;
    // SAFETY: the host writes one u64 into the local.
    match unsafe { proxy_get_current_time_nanoseconds(&mut nanos) } {
        Status::Ok => Some(nanos),
        _ => None,
    }
}
