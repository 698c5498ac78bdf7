//! The `phases` table: every hostcall whose answer may depend on the phase it is made in,
//! called with harmless arguments, and its raw status recorded. `cases::phases` (the stream
//! phases) and the root (`on_configure`, the first `on_tick`) log one line per phase, which
//! `tests/src/scenarios/abi/phases.rs` compares between the hosts and with the README's table.
//!
//! Calls that act on the stream (`proxy_continue_stream` and `proxy_close_stream` of the HTTP
//! directions, `proxy_send_local_response`) are left out: the `continue`, `close` and
//! `local-reply` cases test them where they make sense.

#![allow(unsafe_code)] // FFI to the host: the only way to see raw statuses.

use std::ptr::null_mut;

use crate::imports::*;

/// The header maps probed: request headers and trailers, response headers and trailers, and an
/// HTTP call's response headers and trailers.
const MAPS: [(u32, &str); 6] = [
    (0, "request_headers"),
    (1, "request_trailers"),
    (2, "response_headers"),
    (3, "response_trailers"),
    (6, "call_response_headers"),
    (7, "call_response_trailers"),
];

/// The buffers probed.
const BUFFERS: [(u32, &str); 5] = [
    (0, "request_body"),
    (1, "response_body"),
    (4, "call_response_body"),
    (6, "vm_configuration"),
    (7, "plugin_configuration"),
];

/// The properties probed, one per family.
const PROPERTIES: [&str; 6] = [
    "request.path",
    "request.duration",
    "response.code",
    "source.address",
    "upstream.address",
    "plugin_name",
];

/// A queue token no host hands out.
const NO_QUEUE: u32 = 0x7fff_fff0;
/// A gRPC token no host hands out.
const NO_GRPC_CALL: u32 = 0x7fff_fff1;
/// A context id no host hands out.
const NO_CONTEXT: u32 = 0x7fff_fff2;

/// Every probed hostcall's status, in the table's row order, made from context `context_id`.
pub fn probe(context_id: u32) -> Vec<(String, u32)> {
    let mut out: Vec<(String, u32)> = Vec::new();
    let mut note = |name: &str, status: u32| out.push((name.to_string(), status));
    // SAFETY (every block below): the imports are the host's, with the ABI's signatures; every
    // pointer passed is to a live local or a slice that outlives the call, and every buffer
    // the host returns is taken back with `release`.
    let (mut ptr, mut size, mut n32, mut n64) = (null_mut::<u8>(), 0usize, 0u32, 0u64);
    unsafe {
        note("proxy_log", proxy_log(2, b"abi-test: probe".as_ptr(), 15));
        note("proxy_get_log_level", proxy_get_log_level(&mut n32));
        note(
            "proxy_get_current_time_nanoseconds",
            proxy_get_current_time_nanoseconds(&mut n64),
        );
        note(
            "proxy_set_tick_period_milliseconds",
            proxy_set_tick_period_milliseconds(crate::root::TICK_PERIOD.as_millis() as u32),
        );
    }
    for (map, label) in MAPS {
        let (key, absent, value) = (b"x-abi-probe", b"x-abi-absent", b"1");
        unsafe {
            let s = proxy_get_header_map_pairs(map, &mut ptr, &mut size);
            release(&mut ptr, size);
            note(&format!("proxy_get_header_map_pairs({label})"), s);
            let s =
                proxy_get_header_map_value(map, absent.as_ptr(), absent.len(), &mut ptr, &mut size);
            release(&mut ptr, size);
            note(&format!("proxy_get_header_map_value({label}, absent)"), s);
            note(
                &format!("proxy_get_header_map_size({label})"),
                proxy_get_header_map_size(map, &mut size),
            );
            note(
                &format!("proxy_add_header_map_value({label})"),
                proxy_add_header_map_value(
                    map,
                    key.as_ptr(),
                    key.len(),
                    value.as_ptr(),
                    value.len(),
                ),
            );
            note(
                &format!("proxy_remove_header_map_value({label})"),
                proxy_remove_header_map_value(map, key.as_ptr(), key.len()),
            );
        }
    }
    for (buffer, label) in BUFFERS {
        unsafe {
            note(
                &format!("proxy_get_buffer_status({label})"),
                proxy_get_buffer_status(buffer, &mut size, &mut n32),
            );
            let s = proxy_get_buffer_bytes(buffer, 0, 1, &mut ptr, &mut size);
            release(&mut ptr, size);
            note(&format!("proxy_get_buffer_bytes({label})"), s);
            // Appending nothing: allowed or not, it changes nothing.
            note(
                &format!("proxy_set_buffer_bytes({label}, append nothing)"),
                proxy_set_buffer_bytes(buffer, usize::MAX >> 1, 0, b"".as_ptr(), 0),
            );
        }
    }
    for property in PROPERTIES {
        let path = property.replace('.', "\0");
        unsafe {
            let s = proxy_get_property(path.as_ptr(), path.len(), &mut ptr, &mut size);
            release(&mut ptr, size);
            note(&format!("proxy_get_property({property})"), s);
        }
    }
    let (probe_key, probe_value) = (b"abi_probe", b"1");
    unsafe {
        note(
            "proxy_set_property(abi_probe)",
            proxy_set_property(probe_key.as_ptr(), probe_key.len(), probe_value.as_ptr(), 1),
        );
        let s = proxy_get_shared_data(
            probe_key.as_ptr(),
            probe_key.len(),
            &mut ptr,
            &mut size,
            &mut n32,
        );
        release(&mut ptr, size);
        note("proxy_get_shared_data", s);
        note(
            "proxy_set_shared_data",
            proxy_set_shared_data(
                probe_key.as_ptr(),
                probe_key.len(),
                probe_value.as_ptr(),
                1,
                0,
            ),
        );
        note(
            "proxy_register_shared_queue",
            proxy_register_shared_queue(probe_key.as_ptr(), probe_key.len(), &mut n32),
        );
        note(
            "proxy_resolve_shared_queue",
            proxy_resolve_shared_queue(
                b"".as_ptr(),
                0,
                probe_key.as_ptr(),
                probe_key.len(),
                &mut n32,
            ),
        );
        note(
            "proxy_enqueue_shared_queue(unknown)",
            proxy_enqueue_shared_queue(NO_QUEUE, probe_value.as_ptr(), 1),
        );
        let s = proxy_dequeue_shared_queue(NO_QUEUE, &mut ptr, &mut size);
        release(&mut ptr, size);
        note("proxy_dequeue_shared_queue(unknown)", s);
        let mut metric = 0u32;
        note(
            "proxy_define_metric",
            proxy_define_metric(0, probe_key.as_ptr(), probe_key.len(), &mut metric),
        );
        note("proxy_increment_metric", proxy_increment_metric(metric, 1));
        note("proxy_get_metric", proxy_get_metric(metric, &mut n64));
        let headers = serialize(&[(":method", "GET"), (":path", "/"), (":authority", "probe")]);
        let cluster = b"abi-probe-no-such-cluster";
        note(
            "proxy_http_call(unknown cluster)",
            proxy_http_call(
                cluster.as_ptr(),
                cluster.len(),
                headers.as_ptr(),
                headers.len(),
                b"".as_ptr(),
                0,
                b"".as_ptr(),
                0,
                1000,
                &mut n32,
            ),
        );
        note(
            "proxy_grpc_cancel(unknown)",
            proxy_grpc_cancel(NO_GRPC_CALL),
        );
        note("proxy_grpc_close(unknown)", proxy_grpc_close(NO_GRPC_CALL));
        note(
            "proxy_continue_stream(DOWNSTREAM)",
            proxy_continue_stream(2),
        );
        note("proxy_continue_stream(UPSTREAM)", proxy_continue_stream(3));
        note("proxy_close_stream(DOWNSTREAM)", proxy_close_stream(2));
        note("proxy_close_stream(UPSTREAM)", proxy_close_stream(3));
        note("proxy_done", proxy_done());
        note(
            "proxy_set_effective_context(unknown)",
            proxy_set_effective_context(NO_CONTEXT),
        );
        note(
            "proxy_set_effective_context(own)",
            proxy_set_effective_context(context_id),
        );
        let s = proxy_get_status(&mut n32, &mut ptr, &mut size);
        release(&mut ptr, size);
        note("proxy_get_status", s);
        let name = b"abi-probe-no-such-function";
        let s = proxy_call_foreign_function(
            name.as_ptr(),
            name.len(),
            b"".as_ptr(),
            0,
            &mut ptr,
            &mut size,
        );
        release(&mut ptr, size);
        note("proxy_call_foreign_function(unknown)", s);
    }
    out
}

/// Frees a buffer the host allocated in our memory for a result, if it gave one.
///
/// # Safety
/// `*ptr` is null or a buffer of `size` bytes the host allocated through our allocator.
unsafe fn release(ptr: &mut *mut u8, size: usize) {
    if !ptr.is_null() {
        drop(Vec::from_raw_parts(*ptr, size, size));
        *ptr = null_mut();
    }
}

/// A header map in the ABI's serialization: the count, each name's and value's length, then
/// each name and value with a NUL after it.
fn serialize(pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut out = (pairs.len() as u32).to_le_bytes().to_vec();
    for (name, value) in pairs {
        out.extend_from_slice(&(name.len() as u32).to_le_bytes());
        out.extend_from_slice(&(value.len() as u32).to_le_bytes());
    }
    for (name, value) in pairs {
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        out.extend_from_slice(value.as_bytes());
        out.push(0);
    }
    out
}

/// The line a phase logs: `abi-test: phase <phase> <call>=<status>;...`.
pub fn line(phase: &str, statuses: &[(String, u32)]) -> String {
    let cells: Vec<String> = statuses
        .iter()
        .map(|(name, s)| format!("{name}={s}"))
        .collect();
    format!("abi-test: phase {phase} {}", cells.join(";"))
}
