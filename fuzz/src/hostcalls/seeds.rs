//! Hand-written `hostcalls` inputs, one or two per hostcall family, so a short run starts from
//! calls that succeed (a valid `proxy_http_call`, a queue that exists) instead of finding them
//! first. `seeds/hostcalls/` holds them encoded; `seed_files_match_the_list` keeps the files in
//! step with this list and rewrites them when `WASMESH_FUZZ_WRITE_SEEDS` is set.

use super::input::{Call, Input};
use super::ops::op;
use super::{map, CLUSTER};

/// Out-slots the calls write pointers, sizes and ids to.
const OUT: u32 = 0x800;

/// Guest memory being laid out: each `put` appends at the next free address from 0x100.
struct Memory(Vec<u8>);

impl Memory {
    fn new() -> Memory {
        Memory(vec![0; 0x100])
    }

    /// Places `bytes`; answers (address, length) for a call's arguments.
    fn put(&mut self, bytes: &[u8]) -> (u32, u32) {
        let at = self.0.len() as u32;
        self.0.extend_from_slice(bytes);
        self.0.resize(self.0.len().next_multiple_of(16), 0);
        (at, bytes.len() as u32)
    }
}

fn call(name: &str, given: &[u32]) -> Call {
    let mut args = [0; 10];
    args[..given.len()].copy_from_slice(given);
    Call { op: op(name), args }
}

fn input(callback: u8, state: u8, memory: Memory, calls: Vec<Call>) -> Input {
    Input {
        callback,
        state,
        alloc: 0,
        memory: memory.0,
        calls,
    }
}

/// Every seed, by file name.
pub fn seeds() -> Vec<(&'static str, Input)> {
    vec![
        ("headers", headers()),
        ("bodies", bodies()),
        ("properties", properties()),
        ("shared-data", shared_data()),
        ("queues", queues()),
        ("metrics", metrics()),
        ("http-call", http_call()),
        ("call-response", call_response()),
        ("stream-control", stream_control()),
        ("log-time-wasi", log_time_wasi()),
        ("hostile-allocator", hostile_allocator()),
        ("out-of-bounds", out_of_bounds()),
        ("proc-exit", proc_exit()),
    ]
}

fn headers() -> Input {
    let mut m = Memory::new();
    let path = m.put(b":path");
    let name = m.put(b"x-added");
    let value = m.put(b"v");
    let pairs = m.put(&map(&[("x-new", "1"), ("x-new", "2")]).serialize());
    let calls = vec![
        call("proxy_get_header_map_size", &[0, OUT]),
        call("proxy_get_header_map_pairs", &[0, OUT, OUT + 4]),
        call(
            "proxy_get_header_map_value",
            &[0, path.0, path.1, OUT, OUT + 4],
        ),
        call(
            "proxy_add_header_map_value",
            &[0, name.0, name.1, value.0, value.1],
        ),
        call(
            "proxy_replace_header_map_value",
            &[2, name.0, name.1, value.0, value.1],
        ),
        call("proxy_remove_header_map_value", &[0, path.0, path.1]),
        call("proxy_set_header_map_pairs", &[3, pairs.0, pairs.1]),
        call("proxy_get_header_map_pairs", &[3, OUT, OUT + 4]),
        call("proxy_get_header_map_pairs", &[6, OUT, OUT + 4]),
    ];
    input(0, 0x3f, m, calls)
}

fn bodies() -> Input {
    let mut m = Memory::new();
    let prefix = m.put(b"prefix ");
    let suffix = m.put(b" suffix");
    let calls = vec![
        call("proxy_get_buffer_status", &[0, OUT, OUT + 4]),
        call("proxy_get_buffer_bytes", &[0, 0, 100, OUT, OUT + 4]),
        call("proxy_set_buffer_bytes", &[0, 0, 0, prefix.0, prefix.1]),
        call("proxy_set_buffer_bytes", &[0, 1000, 0, suffix.0, suffix.1]),
        call("proxy_set_buffer_bytes", &[1, 2, 3, prefix.0, prefix.1]),
        call("proxy_get_buffer_bytes", &[1, 0, u32::MAX, OUT, OUT + 4]),
        call("proxy_get_buffer_bytes", &[6, 0, 100, OUT, OUT + 4]),
        call("proxy_get_buffer_bytes", &[7, 3, 100, OUT, OUT + 4]),
        call("proxy_get_buffer_status", &[4, OUT, OUT + 4]),
    ];
    input(1, 0x3f, m, calls)
}

fn properties() -> Input {
    let mut m = Memory::new();
    let mut get = Vec::new();
    for path in [
        &b"request\0path"[..],
        b"request.headers",
        b"response.code",
        b"source.address",
        b"upstream.port",
        b"plugin_name",
        b"route_name",
        b"fuzz\0key",
    ] {
        let (at, len) = m.put(path);
        get.push(call("proxy_get_property", &[at, len, OUT, OUT + 4]));
    }
    let key = m.put(b"fuzz\0key");
    let value = m.put(b"value");
    let mut calls = vec![call(
        "proxy_set_property",
        &[key.0, key.1, value.0, value.1],
    )];
    calls.extend(get);
    input(3, 0x3f, m, calls)
}

fn shared_data() -> Input {
    let mut m = Memory::new();
    let key = m.put(b"fuzz-key");
    let value = m.put(b"fuzz-value");
    let missing = m.put(b"missing");
    let calls = vec![
        call(
            "proxy_set_shared_data",
            &[key.0, key.1, value.0, value.1, 0],
        ),
        call(
            "proxy_get_shared_data",
            &[key.0, key.1, OUT, OUT + 4, OUT + 8],
        ),
        call("proxy_set_shared_data", &[key.0, key.1, value.0, 3, 1]),
        call("proxy_set_shared_data", &[key.0, key.1, value.0, 3, 12345]),
        call(
            "proxy_get_shared_data",
            &[missing.0, missing.1, OUT, OUT + 4, OUT + 8],
        ),
    ];
    input(8, 0, m, calls)
}

fn queues() -> Input {
    let mut m = Memory::new();
    let name = m.put(b"fuzz-queue");
    let vm = m.put(b"fuzz-vm");
    let item = m.put(b"item");
    let calls = vec![
        call("proxy_register_shared_queue", &[name.0, name.1, OUT]),
        call(
            "proxy_resolve_shared_queue",
            &[vm.0, vm.1, name.0, name.1, OUT + 4],
        ),
        call("proxy_enqueue_shared_queue", &[1, item.0, item.1]),
        call("proxy_dequeue_shared_queue", &[1, OUT, OUT + 4]),
        call("proxy_dequeue_shared_queue", &[1, OUT, OUT + 4]),
        call("proxy_enqueue_shared_queue", &[99, item.0, item.1]),
    ];
    input(9, 0, m, calls)
}

fn metrics() -> Input {
    let mut m = Memory::new();
    let counter = m.put(b"fuzz_counter");
    let gauge = m.put(b"fuzz_gauge{label=\"x\"}");
    let histogram = m.put(b"fuzz_histogram");
    let calls = vec![
        call("proxy_define_metric", &[0, counter.0, counter.1, OUT]),
        call("proxy_define_metric", &[1, gauge.0, gauge.1, OUT + 4]),
        call(
            "proxy_define_metric",
            &[2, histogram.0, histogram.1, OUT + 8],
        ),
        call("proxy_define_metric", &[7, counter.0, counter.1, OUT]),
        call("proxy_increment_metric", &[1, 5, 0]),
        call("proxy_increment_metric", &[2, u32::MAX, u32::MAX]),
        call("proxy_record_metric", &[3, 42, 0]),
        call("proxy_get_metric", &[1, OUT]),
        call("proxy_get_metric", &[3, OUT]),
    ];
    input(6, 0x3f, m, calls)
}

fn http_call() -> Input {
    let mut m = Memory::new();
    let cluster = m.put(CLUSTER.as_bytes());
    let unknown = m.put(b"no-such-cluster");
    let request = [(":method", "GET"), (":path", "/"), (":authority", "fuzz")];
    let headers = m.put(&map(&request).serialize());
    let no_path = m.put(&map(&[(":method", "GET")]).serialize());
    let body = m.put(b"call body");
    let trailers = m.put(&map(&[]).serialize());
    let send = |target: (u32, u32), headers: (u32, u32)| {
        let args = [target.0, target.1, headers.0, headers.1, body.0, body.1];
        let mut all = args.to_vec();
        all.extend([trailers.0, trailers.1, 1000, OUT]);
        call("proxy_http_call", &all)
    };
    let calls = vec![
        send(cluster, headers),
        send(unknown, headers),
        send(cluster, no_path),
    ];
    input(0, 0x01, m, calls)
}

fn call_response() -> Input {
    let mut m = Memory::new();
    let status = m.put(b":status");
    let calls = vec![
        call("proxy_get_header_map_pairs", &[6, OUT, OUT + 4]),
        call(
            "proxy_get_header_map_value",
            &[6, status.0, status.1, OUT, OUT + 4],
        ),
        call("proxy_get_buffer_bytes", &[4, 0, 100, OUT, OUT + 4]),
        call("proxy_get_header_map_pairs", &[7, OUT, OUT + 4]),
        call("proxy_get_status", &[OUT, OUT + 4, OUT + 8]),
    ];
    input(11, 0x01, m, calls)
}

fn stream_control() -> Input {
    let mut m = Memory::new();
    let details = m.put(b"fuzz_details");
    let body = m.put(b"denied");
    let headers = m.put(&map(&[("x-reply", "1")]).serialize());
    let reply = [details.0, details.1, body.0, body.1, headers.0, headers.1];
    let mut local = vec![403];
    local.extend(reply);
    local.push(u32::MAX);
    let calls = vec![
        call("proxy_send_local_response", &local),
        call("proxy_continue_stream", &[0]),
        call("proxy_continue_stream", &[2]),
        call("proxy_close_stream", &[1]),
        call("proxy_done", &[]),
        call("proxy_set_effective_context", &[3]),
        call("proxy_continue_request", &[]),
        call("proxy_continue_response", &[]),
        call("proxy_clear_route_cache", &[]),
        call("proxy_set_effective_context", &[1]),
        call("proxy_set_effective_context", &[77]),
    ];
    input(0, 0xff, m, calls)
}

fn log_time_wasi() -> Input {
    let mut m = Memory::new();
    let message = m.put(b"hello from the fuzzer");
    let mut iov = message.0.to_le_bytes().to_vec();
    iov.extend(message.1.to_le_bytes());
    let iovs = m.put(&iov);
    let name = m.put(b"no_such_function");
    let calls = vec![
        call("proxy_log", &[2, message.0, message.1]),
        call("proxy_log", &[9, message.0, message.1]),
        call("proxy_get_log_level", &[OUT]),
        call("proxy_get_current_time_nanoseconds", &[OUT]),
        call("proxy_set_tick_period_milliseconds", &[100]),
        call("fd_write", &[1, iovs.0, 1, OUT]),
        call("fd_write", &[3, iovs.0, 1, OUT]),
        call("clock_time_get", &[1, 0, 0, OUT]),
        call("clock_res_get", &[0, OUT]),
        call("random_get", &[OUT, 16]),
        call("args_sizes_get", &[OUT, OUT + 4]),
        call("environ_sizes_get", &[OUT, OUT + 4]),
        call("fd_seek", &[1, 0, 0, 0, OUT]),
        call("sched_yield", &[]),
        call(
            "proxy_call_foreign_function",
            &[name.0, name.1, 0, 0, OUT, OUT + 4],
        ),
        call("proxy_grpc_cancel", &[1]),
    ];
    input(8, 0, m, calls)
}

/// The guest's allocator answers a pointer whose data would end past its memory.
fn hostile_allocator() -> Input {
    let mut m = Memory::new();
    let path = m.put(b"plugin_name");
    let calls = vec![
        call("proxy_get_header_map_pairs", &[0, OUT, OUT + 4]),
        call("proxy_get_property", &[path.0, path.1, OUT, OUT + 4]),
    ];
    Input {
        alloc: 0x1_fff0,
        ..input(0, 0x3f, m, calls)
    }
}

/// Pointers and sizes past the guest's memory, and sizes that wrap.
fn out_of_bounds() -> Input {
    let calls = vec![
        call(
            "proxy_get_header_map_value",
            &[0, 0xffff_fff0, 0x20, OUT, OUT + 4],
        ),
        call("proxy_set_header_map_pairs", &[0, 0x1_ffff, 8]),
        call("proxy_log", &[2, 0x2_0000, 1]),
        call("proxy_set_shared_data", &[0, u32::MAX, 0, 1, 0]),
        call("proxy_get_log_level", &[0x1_fffe]),
        call(
            "proxy_get_buffer_bytes",
            &[0, u32::MAX, u32::MAX, OUT, OUT + 4],
        ),
        call("fd_write", &[1, 0x1_fffc, u32::MAX, OUT]),
    ];
    input(0, 0x3f, Memory::new(), calls)
}

/// `proc_exit` ends the VM; the calls after it never run.
fn proc_exit() -> Input {
    let calls = vec![
        call("proxy_get_log_level", &[OUT]),
        call("proc_exit", &[3]),
        call("proxy_get_log_level", &[OUT]),
    ];
    input(8, 0, Memory::new(), calls)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::seeds;

    #[test]
    fn seed_files_match_the_list() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds/hostcalls");
        let rewrite = std::env::var_os("WASMESH_FUZZ_WRITE_SEEDS").is_some();
        for (name, input) in seeds() {
            let path = dir.join(name);
            let bytes = input.encode();
            if rewrite {
                std::fs::write(&path, &bytes).expect("writing a seed");
            }
            let on_disk = std::fs::read(&path).unwrap_or_default();
            assert!(
                on_disk == bytes,
                "{}: out of date; rerun with WASMESH_FUZZ_WRITE_SEEDS=1",
                path.display()
            );
        }
    }

    /// What each seed's calls answer, so a seed that stops reaching its hostcall (a changed
    /// layout, a renamed cluster) is noticed: 0 Ok, 1 NotFound, 2 BadArgument, 6
    /// InvalidMemoryAccess, 7 Empty, 8 CasMismatch (WASI: 8 BADF), 12 Unimplemented (WASI: 28 INVAL).
    /// `fd_seek` answers 0 whatever the descriptor, as Envoy's does.
    const STATUSES: &[(&str, &[u32])] = &[
        ("headers", &[0, 0, 0, 0, 0, 0, 0, 0, 2]),
        ("bodies", &[0, 0, 0, 0, 0, 0, 0, 0, 1]),
        ("properties", &[0, 0, 0, 0, 0, 0, 0, 0, 0]),
        ("shared-data", &[0, 0, 0, 8, 1]),
        ("queues", &[0, 0, 0, 0, 7, 1]),
        ("metrics", &[0, 0, 0, 2, 0, 0, 0, 0, 2]),
        ("http-call", &[0, 2, 2]),
        ("call-response", &[0, 0, 0, 0, 0]),
        ("stream-control", &[0, 0, 12, 0, 0, 0, 0, 0, 0, 0, 2]),
        (
            "log-time-wasi",
            &[0, 2, 0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1, 12],
        ),
        ("hostile-allocator", &[6, 0]),
        ("out-of-bounds", &[6, 6, 6, 6, 6, 2, 28]),
        ("proc-exit", &[]),
    ];

    #[test]
    fn every_seed_keeps_the_invariant_and_reaches_its_calls() {
        let seeds = seeds();
        assert_eq!(seeds.len(), STATUSES.len());
        for ((name, input), (expected_name, statuses)) in seeds.iter().zip(STATUSES) {
            assert_eq!(name, expected_name);
            let answered = crate::hostcalls::abi().run(&input.encode());
            assert_eq!(answered, *statuses, "{name}");
        }
    }
}
