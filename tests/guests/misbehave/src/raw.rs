//! Hostcalls made directly with pointers the guest does not own, returning the raw status.
//!
//! The SDK never passes such pointers (and panics on unexpected statuses), so these are the
//! same `env` imports it declares, with the same wasm signatures, called by hand.

#![allow(unsafe_code)] // FFI to the host with deliberately bad pointers: the point of the module.

use proxy_wasm::types::{BufferType, MapType};

/// An address past the end of any 32-bit linear memory a host would give (4 GiB - 16).
const FAR_AWAY: usize = 0xFFFF_FFF0;
/// A size that, from `FAR_AWAY`, runs past 4 GiB as well.
const FAR_SIZE: usize = 1000;
/// A pair count no header map has; its serialization would need 8 GB of sizes alone.
const HUGE_PAIR_COUNT: u32 = 1_000_000_000;

#[link(wasm_import_module = "env")]
extern "C" {
    fn proxy_log(level: u32, message_data: *const u8, message_size: usize) -> u32;
    fn proxy_get_header_map_value(
        map_type: u32,
        key_data: *const u8,
        key_size: usize,
        return_value_data: *mut *mut u8,
        return_value_size: *mut usize,
    ) -> u32;
    fn proxy_set_buffer_bytes(
        buffer_type: u32,
        start: usize,
        size: usize,
        buffer_data: *const u8,
        buffer_size: usize,
    ) -> u32;
    fn proxy_set_header_map_pairs(map_type: u32, map_data: *const u8, map_size: usize) -> u32;
    fn proxy_set_shared_data(
        key_data: *const u8,
        key_size: usize,
        value_data: *const u8,
        value_size: usize,
        cas: u32,
    ) -> u32;
    fn proxy_define_metric(
        metric_type: u32,
        name_data: *const u8,
        name_size: usize,
        return_id: *mut u32,
    ) -> u32;
}

/// `proxy_set_shared_data` without a CAS, returning the raw status (the SDK panics on any
/// status but `Ok` and `CasMismatch`, so a refusal could not be counted through it).
pub fn set_shared_data(key: &[u8], value: &[u8]) -> u32 {
    // SAFETY: both slices are valid guest memory for their whole length during the call.
    unsafe { proxy_set_shared_data(key.as_ptr(), key.len(), value.as_ptr(), value.len(), 0) }
}

/// `proxy_define_metric` for a counter, returning the raw status (the SDK panics on any
/// status but `Ok`).
pub fn define_counter(name: &str) -> u32 {
    let mut id = 0u32;
    // SAFETY: `name` and the return slot are valid guest memory owned by this frame.
    unsafe { proxy_define_metric(0, name.as_ptr(), name.len(), &mut id) }
}

/// Each hostcall given an out-of-bounds pointer, with the status it returned
/// (`InvalidMemoryAccess` = 6 is the right answer for all of them).
pub fn out_of_bounds() -> Vec<(&'static str, u32)> {
    let far = FAR_AWAY as *const u8;
    let mut value_data: *mut u8 = std::ptr::null_mut();
    let mut value_size: usize = 0;
    // SAFETY: the host must check every pointer; these calls exist to show it does. The only
    // guest memory handed over (the two return slots) is valid and owned by this frame.
    unsafe {
        vec![
            ("proxy_log", proxy_log(2, far, FAR_SIZE)),
            (
                "proxy_get_header_map_value",
                proxy_get_header_map_value(
                    MapType::HttpRequestHeaders as u32,
                    far,
                    FAR_SIZE,
                    &mut value_data,
                    &mut value_size,
                ),
            ),
            (
                "proxy_set_buffer_bytes",
                proxy_set_buffer_bytes(BufferType::HttpRequestBody as u32, 0, 0, far, FAR_SIZE),
            ),
        ]
    }
}

/// `proxy_set_header_map_pairs` on the request headers with a buffer that claims
/// [`HUGE_PAIR_COUNT`] pairs but holds none (`BadArgument` = 2 is the right answer).
pub fn huge_map() -> Vec<(&'static str, u32)> {
    let mut map = HUGE_PAIR_COUNT.to_le_bytes().to_vec();
    // A few sizes and bytes, so the buffer is not trivially empty.
    map.extend_from_slice(&[1, 0, 0, 0, 1, 0, 0, 0, b'a', 0, b'b', 0]);
    // SAFETY: `map` is valid guest memory for its whole length during the call.
    let status = unsafe {
        proxy_set_header_map_pairs(MapType::HttpRequestHeaders as u32, map.as_ptr(), map.len())
    };
    vec![("proxy_set_header_map_pairs", status)]
}
