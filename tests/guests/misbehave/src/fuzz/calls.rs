//! One entry per `env` hostcall wasmesh links: its name and how to call it with arguments from
//! [`Args`]. Well-formed values (the `const`s below) come up often enough that calls also
//! succeed; everything else is hostile.
//!
//! Every call is FFI into the host with arbitrary bits. The host must check them all; the only
//! guest memory it can legitimately write is what [`Args`] hands out (scratch, out-slots, the
//! guard page) or what a random in-bounds pointer happens to hit (counted by the test as the guest
//! breaking itself, not the host).

#![allow(unsafe_code)] // the whole point: raw hostcalls with unchecked arguments.

use proxy_wasm::traits::Context as _;

use super::args::Args;
use super::imports as abi;

/// A hostcall's name and a way to call it once with random arguments.
pub type Call = (&'static str, fn(&mut Args) -> u32);

const KEYS: &[&[u8]] = &[b"x-fuzz-seed", b":path", b"x-fuzz-new", b""];
const VALUES: &[&[u8]] = &[b"v", b"", b"fuzz value"];
/// `{x-fuzz-reply: yes}` in the proxy-wasm pair serialization.
const REPLY_MAP: &[u8] = b"\x01\0\0\0\x0c\0\0\0\x03\0\0\0x-fuzz-reply\0yes\0";
/// `:method GET`, `:path /fuzz-call`, `:authority backend`: a valid `proxy_http_call` head.
const CALL_MAP: &[u8] = b"\x03\0\0\0\x07\0\0\0\x03\0\0\0\x05\0\0\0\x0a\0\0\0\x0a\0\0\0\x07\0\0\0\
:method\0GET\0:path\0/fuzz-call\0:authority\0backend\0";
const MAPS: &[&[u8]] = &[REPLY_MAP, CALL_MAP, b""];
const PROPERTIES: &[&[u8]] = &[
    b"request\0path",
    b"plugin_name",
    b"request.headers",
    b"fuzz\0prop",
    b"response\0code",
];
const SHARED_KEYS: &[&[u8]] = &[b"fuzz-key", b"fuzz-key-2"];
const QUEUES: &[&[u8]] = &[b"fuzz-queue"];
const VM_IDS: &[&[u8]] = &[b"misbehave-open", b"misbehave-closed", b""];
const METRICS: &[&[u8]] = &[b"fuzz_counter", b"fuzz_gauge", b"fuzz_histogram"];
const LOG_LINES: &[&[u8]] = &[b"misbehave fuzz: a log line"];

/// Longest in-bounds message logged above trace level.
const MAX_LOGGED: u32 = 1024;

/// `proxy_map_type_t` (0..=7), `proxy_buffer_type_t` (0..=8), `proxy_log_level_t` (0..=5),
/// `proxy_stream_type_t` (0..=3), `proxy_metric_type_t` (0..=2): the largest valid value.
const MAP_TYPE: u32 = 7;
const BUFFER_TYPE: u32 = 8;
const LOG_LEVEL: u32 = 5;
const STREAM_TYPE: u32 = 3;
const METRIC_TYPE: u32 = 2;

/// `(name, fn)` for a hostcall; the closure body is the unsafe FFI call.
macro_rules! call {
    ($name:ident, |$a:ident| $body:expr) => {
        (stringify!($name), |$a: &mut Args| unsafe { $body })
    };
}

/// Every `env` hostcall (see `crates/wasmesh-host/src/abi`).
pub const CALLS: &[Call] = &[
    call!(proxy_log, |a| {
        let mut level = a.enumeration(LOG_LEVEL);
        let (p, s) = a.bytes_of(LOG_LINES);
        if s > MAX_LOGGED && !a.out_of_bounds(p, s) {
            // Still read and bounds-checked by the host, but at trace level: a megabyte of
            // memory per line would flood the host's log (and its writes, the time cap).
            level = 0;
        }
        abi::proxy_log(level, p, s)
    }),
    call!(proxy_get_log_level, |a| abi::proxy_get_log_level(a.out(0))),
    call!(proxy_get_header_map_size, |a| {
        abi::proxy_get_header_map_size(a.enumeration(MAP_TYPE), a.out(0))
    }),
    call!(proxy_get_header_map_pairs, |a| {
        let (map, rp, rs) = (a.enumeration(MAP_TYPE), a.out(0), a.out(1));
        let status = abi::proxy_get_header_map_pairs(map, rp, rs);
        a.free_returned(status, rp, rs);
        status
    }),
    call!(proxy_set_header_map_pairs, |a| {
        let map = a.enumeration(MAP_TYPE);
        let (p, s) = a.bytes_of(MAPS);
        abi::proxy_set_header_map_pairs(map, p, s)
    }),
    call!(proxy_get_header_map_value, |a| {
        let map = a.enumeration(MAP_TYPE);
        let (kp, ks) = a.bytes_of(KEYS);
        let (rp, rs) = (a.out(0), a.out(1));
        let status = abi::proxy_get_header_map_value(map, kp, ks, rp, rs);
        a.free_returned(status, rp, rs);
        status
    }),
    call!(proxy_add_header_map_value, |a| {
        let map = a.enumeration(MAP_TYPE);
        let ((kp, ks), (vp, vs)) = (a.bytes_of(KEYS), a.bytes_of(VALUES));
        abi::proxy_add_header_map_value(map, kp, ks, vp, vs)
    }),
    call!(proxy_replace_header_map_value, |a| {
        let map = a.enumeration(MAP_TYPE);
        let ((kp, ks), (vp, vs)) = (a.bytes_of(KEYS), a.bytes_of(VALUES));
        abi::proxy_replace_header_map_value(map, kp, ks, vp, vs)
    }),
    call!(proxy_remove_header_map_value, |a| {
        let map = a.enumeration(MAP_TYPE);
        let (kp, ks) = a.bytes_of(KEYS);
        abi::proxy_remove_header_map_value(map, kp, ks)
    }),
    call!(proxy_get_buffer_status, |a| {
        abi::proxy_get_buffer_status(a.enumeration(BUFFER_TYPE), a.out(0), a.out(1))
    }),
    call!(proxy_get_buffer_bytes, |a| {
        let buffer = a.enumeration(BUFFER_TYPE);
        let (start, max) = (a.size(0), a.size(0));
        let (rp, rs) = (a.out(0), a.out(1));
        let status = abi::proxy_get_buffer_bytes(buffer, start, max, rp, rs);
        a.free_returned(status, rp, rs);
        status
    }),
    call!(proxy_set_buffer_bytes, |a| {
        let buffer = a.enumeration(BUFFER_TYPE);
        let (start, size) = (a.size(0), a.size(0));
        let (p, s) = a.bytes_of(VALUES);
        abi::proxy_set_buffer_bytes(buffer, start, size, p, s)
    }),
    call!(proxy_get_property, |a| {
        let (p, s) = a.bytes_of(PROPERTIES);
        let (rp, rs) = (a.out(0), a.out(1));
        let status = abi::proxy_get_property(p, s, rp, rs);
        a.free_returned(status, rp, rs);
        status
    }),
    call!(proxy_set_property, |a| {
        let ((p, s), (vp, vs)) = (a.kept_bytes(PROPERTIES), a.kept_bytes(VALUES));
        abi::proxy_set_property(p, s, vp, vs)
    }),
    call!(proxy_continue_stream, |a| {
        abi::proxy_continue_stream(a.enumeration(STREAM_TYPE))
    }),
    call!(proxy_close_stream, |a| {
        let stream = if a.may_close {
            a.enumeration(STREAM_TYPE)
        } else {
            a.invalid_enumeration(STREAM_TYPE)
        };
        abi::proxy_close_stream(stream)
    }),
    call!(proxy_send_local_response, |a| {
        let any = a.any();
        let status = a.one_of(&[200, 204, 404, 503, 100, 101, 199, 99, 999, 1000, 0, any]);
        let (dp, ds) = a.bytes_of(&[b"fuzz_details"]);
        let (bp, bs) = a.bytes_of(VALUES);
        let (hp, hs) = a.bytes_of(MAPS);
        let grpc = a.one_of(&[-1, 0, 14, i32::MAX, any as i32]);
        abi::proxy_send_local_response(status, dp, ds, bp, bs, hp, hs, grpc)
    }),
    call!(proxy_done, |_a| abi::proxy_done()),
    call!(proxy_set_effective_context, |a| {
        abi::proxy_set_effective_context(a.id())
    }),
    call!(proxy_get_status, |a| {
        let (code, rp, rs) = (a.out(2), a.out(0), a.out(1));
        let status = abi::proxy_get_status(code, rp, rs);
        a.free_returned(status, rp, rs);
        status
    }),
    call!(proxy_get_shared_data, |a| {
        let (kp, ks) = a.bytes_of(SHARED_KEYS);
        let (rp, rs, cas) = (a.out(0), a.out(1), a.out(2));
        let status = abi::proxy_get_shared_data(kp, ks, rp, rs, cas);
        a.free_returned(status, rp, rs);
        status
    }),
    call!(proxy_set_shared_data, |a| {
        let ((kp, ks), (vp, vs)) = (a.kept_bytes(SHARED_KEYS), a.kept_bytes(VALUES));
        let any = a.any();
        let cas = a.one_of(&[0, 1, any]);
        abi::proxy_set_shared_data(kp, ks, vp, vs, cas)
    }),
    call!(proxy_register_shared_queue, |a| {
        let (p, s) = a.kept_bytes(QUEUES);
        let out = a.out(2);
        let status = abi::proxy_register_shared_queue(p, s, out);
        a.learn_id(status, out, 2);
        status
    }),
    call!(proxy_resolve_shared_queue, |a| {
        let ((vp, vs), (np, ns)) = (a.bytes_of(VM_IDS), a.bytes_of(QUEUES));
        let out = a.out(2);
        let status = abi::proxy_resolve_shared_queue(vp, vs, np, ns, out);
        a.learn_id(status, out, 2);
        status
    }),
    call!(proxy_enqueue_shared_queue, |a| {
        let id = a.id();
        let (p, s) = a.kept_bytes(VALUES);
        abi::proxy_enqueue_shared_queue(id, p, s)
    }),
    call!(proxy_dequeue_shared_queue, |a| {
        let (id, rp, rs) = (a.id(), a.out(0), a.out(1));
        let status = abi::proxy_dequeue_shared_queue(id, rp, rs);
        a.free_returned(status, rp, rs);
        status
    }),
    call!(proxy_define_metric, |a| {
        let kind = a.enumeration(METRIC_TYPE) as i32;
        let (p, s) = a.kept_bytes(METRICS);
        let out = a.out(2);
        let status = abi::proxy_define_metric(kind, p, s, out);
        a.learn_id(status, out, 2);
        status
    }),
    call!(proxy_increment_metric, |a| {
        let any = a.any64() as i64;
        let delta = a.one_of(&[1, -1, 0, i64::MAX, i64::MIN, any]);
        abi::proxy_increment_metric(a.id(), delta)
    }),
    call!(proxy_record_metric, |a| {
        let any = a.any64() as i64;
        let value = a.one_of(&[0, 1, 1000, -1, any]);
        abi::proxy_record_metric(a.id(), value)
    }),
    call!(proxy_get_metric, |a| {
        let id = a.id();
        abi::proxy_get_metric(id, a.out8(2))
    }),
    call!(proxy_http_call, |a| {
        if a.chance(20) {
            return well_formed_http_call(a);
        }
        // Only an unknown cluster here: a call that succeeded through the raw import would get a
        // response the SDK has no record of, and the SDK panics on it ("invalid token_id").
        let (up, us) = a.bytes_of(&[b"no-such-cluster"]);
        let (hp, hs) = a.bytes_of(&[CALL_MAP]);
        let (bp, bs) = a.bytes_of(VALUES);
        let (tp, ts) = a.bytes_of(&[b""]);
        let any = a.any();
        let timeout = a.one_of(&[0, 1, 100, 5000, u32::MAX, any]);
        let out = a.out(2);
        abi::proxy_http_call(up, us, hp, hs, bp, bs, tp, ts, timeout, out)
    }),
    call!(proxy_set_tick_period_milliseconds, |a| {
        let any = a.any();
        abi::proxy_set_tick_period_milliseconds(a.one_of(&[0, 1, 10, 1000, u32::MAX, any]))
    }),
    call!(proxy_get_current_time_nanoseconds, |a| {
        abi::proxy_get_current_time_nanoseconds(a.out8(2))
    }),
    call!(proxy_grpc_call, |a| {
        let p: [u32; 12] = std::array::from_fn(|_| a.ptr());
        abi::proxy_grpc_call(
            p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11],
        )
    }),
    call!(proxy_grpc_stream, |a| {
        let p: [u32; 9] = std::array::from_fn(|_| a.ptr());
        abi::proxy_grpc_stream(p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8])
    }),
    call!(proxy_grpc_send, |a| {
        let (id, (p, s), end) = (a.id(), a.bytes_of(VALUES), a.below(3));
        abi::proxy_grpc_send(id, p, s, end)
    }),
    call!(proxy_grpc_cancel, |a| abi::proxy_grpc_cancel(a.id())),
    call!(proxy_grpc_close, |a| abi::proxy_grpc_close(a.id())),
    call!(proxy_call_foreign_function, |a| {
        let ((np, ns), (ap, as_)) = (a.bytes_of(&[b"compress", b""]), a.bytes_of(VALUES));
        let (rp, rs) = (a.out(0), a.out(1));
        let status = abi::proxy_call_foreign_function(np, ns, ap, as_, rp, rs);
        a.free_returned(status, rp, rs);
        status
    }),
];

/// A valid `proxy_http_call` through the SDK, which records the token so that the response
/// callback finds it (the same import, with the SDK's well-formed arguments).
fn well_formed_http_call(a: &mut Args) -> u32 {
    let cluster = a.one_of(&["backend", "no-such-cluster"]);
    let timeout = std::time::Duration::from_millis(u64::from(a.below(2000)));
    let headers = vec![
        (":method", "GET"),
        (":path", "/fuzz-call"),
        (":authority", "backend"),
    ];
    match Sdk.dispatch_http_call(cluster, headers, Some(b"fuzz"), vec![], timeout) {
        Ok(_) => 0,
        Err(status) => status as u32,
    }
}

/// A context to reach the SDK's `dispatch_http_call` from (its responses are ignored).
struct Sdk;

impl proxy_wasm::traits::Context for Sdk {}
