//! Every hostcall wasmesh links (`crates/wasmesh-host/src/abi`), declared at the wasm level: each pointer, size
//! and enum is a plain `u32` (`i32`/`i64` where the ABI says so), so the fuzzer can pass any bit
//! pattern. `proc_exit` is left out: it ends the VM by design and has its own test (`exit`).
//!
//! `raw.rs`, `wasi.rs` and the SDK declare some of these with typed pointers; the wasm signature
//! is the same, only the Rust spelling differs, hence the `clashing_extern_declarations` allow.

#![allow(unsafe_code)] // FFI declarations.
#![allow(clashing_extern_declarations)] // same wasm signatures as raw.rs/wasi.rs, other Rust types

#[link(wasm_import_module = "env")]
extern "C" {
    pub fn proxy_log(level: u32, ptr: u32, size: u32) -> u32;
    pub fn proxy_get_log_level(ret: u32) -> u32;
    pub fn proxy_get_header_map_size(map: u32, ret_size: u32) -> u32;
    pub fn proxy_get_header_map_pairs(map: u32, ret_ptr: u32, ret_size: u32) -> u32;
    pub fn proxy_set_header_map_pairs(map: u32, ptr: u32, size: u32) -> u32;
    pub fn proxy_get_header_map_value(map: u32, kp: u32, ks: u32, rp: u32, rs: u32) -> u32;
    pub fn proxy_add_header_map_value(map: u32, kp: u32, ks: u32, vp: u32, vs: u32) -> u32;
    pub fn proxy_replace_header_map_value(map: u32, kp: u32, ks: u32, vp: u32, vs: u32) -> u32;
    pub fn proxy_remove_header_map_value(map: u32, kp: u32, ks: u32) -> u32;
    pub fn proxy_get_buffer_status(buffer: u32, ret_size: u32, ret_flags: u32) -> u32;
    pub fn proxy_get_buffer_bytes(buffer: u32, start: u32, max: u32, rp: u32, rs: u32) -> u32;
    pub fn proxy_set_buffer_bytes(buffer: u32, start: u32, size: u32, p: u32, s: u32) -> u32;
    pub fn proxy_get_property(p: u32, s: u32, rp: u32, rs: u32) -> u32;
    pub fn proxy_set_property(p: u32, s: u32, vp: u32, vs: u32) -> u32;
    pub fn proxy_continue_stream(stream: u32) -> u32;
    pub fn proxy_close_stream(stream: u32) -> u32;
    #[allow(clippy::too_many_arguments)]
    pub fn proxy_send_local_response(
        status: u32,
        dp: u32,
        ds: u32,
        bp: u32,
        bs: u32,
        hp: u32,
        hs: u32,
        grpc: i32,
    ) -> u32;
    pub fn proxy_done() -> u32;
    pub fn proxy_set_effective_context(ctx: u32) -> u32;
    pub fn proxy_get_status(ret_code: u32, rp: u32, rs: u32) -> u32;
    pub fn proxy_get_shared_data(kp: u32, ks: u32, rp: u32, rs: u32, ret_cas: u32) -> u32;
    pub fn proxy_set_shared_data(kp: u32, ks: u32, vp: u32, vs: u32, cas: u32) -> u32;
    pub fn proxy_register_shared_queue(p: u32, s: u32, ret_id: u32) -> u32;
    pub fn proxy_resolve_shared_queue(vp: u32, vs: u32, np: u32, ns: u32, ret_id: u32) -> u32;
    pub fn proxy_enqueue_shared_queue(id: u32, p: u32, s: u32) -> u32;
    pub fn proxy_dequeue_shared_queue(id: u32, rp: u32, rs: u32) -> u32;
    pub fn proxy_define_metric(kind: i32, p: u32, s: u32, ret_id: u32) -> u32;
    pub fn proxy_increment_metric(id: u32, delta: i64) -> u32;
    pub fn proxy_record_metric(id: u32, value: i64) -> u32;
    pub fn proxy_get_metric(id: u32, ret: u32) -> u32;
    #[allow(clippy::too_many_arguments)]
    pub fn proxy_http_call(
        up: u32,
        us: u32,
        hp: u32,
        hs: u32,
        bp: u32,
        bs: u32,
        tp: u32,
        ts: u32,
        timeout_ms: u32,
        ret_token: u32,
    ) -> u32;
    pub fn proxy_set_tick_period_milliseconds(period: u32) -> u32;
    pub fn proxy_get_current_time_nanoseconds(ret: u32) -> u32;
    #[allow(clippy::too_many_arguments)]
    pub fn proxy_grpc_call(
        a: u32,
        b: u32,
        c: u32,
        d: u32,
        e: u32,
        f: u32,
        g: u32,
        h: u32,
        i: u32,
        j: u32,
        k: u32,
        l: u32,
    ) -> u32;
    #[allow(clippy::too_many_arguments)]
    pub fn proxy_grpc_stream(
        a: u32,
        b: u32,
        c: u32,
        d: u32,
        e: u32,
        f: u32,
        g: u32,
        h: u32,
        i: u32,
    ) -> u32;
    pub fn proxy_grpc_send(token: u32, p: u32, s: u32, end: u32) -> u32;
    pub fn proxy_grpc_cancel(token: u32) -> u32;
    pub fn proxy_grpc_close(token: u32) -> u32;
    pub fn proxy_call_foreign_function(
        np: u32,
        ns: u32,
        ap: u32,
        as_: u32,
        rp: u32,
        rs: u32,
    ) -> u32;
}

#[link(wasm_import_module = "wasi_snapshot_preview1")]
extern "C" {
    pub fn fd_write(fd: u32, iovs: u32, count: u32, ret: u32) -> u32;
    pub fn fd_read(fd: u32, iovs: u32, count: u32, ret: u32) -> u32;
    pub fn fd_close(fd: u32) -> u32;
    pub fn fd_seek(fd: u32, offset: i64, whence: u32, ret: u32) -> u32;
    pub fn fd_fdstat_get(fd: u32, ret: u32) -> u32;
    pub fn fd_prestat_get(fd: u32, ret: u32) -> u32;
    pub fn fd_prestat_dir_name(fd: u32, p: u32, s: u32) -> u32;
    pub fn sched_yield() -> u32;
    pub fn poll_oneoff(subs: u32, events: u32, count: u32, ret: u32) -> u32;
    pub fn environ_sizes_get(count: u32, size: u32) -> u32;
    pub fn args_sizes_get(count: u32, size: u32) -> u32;
    pub fn environ_get(environ: u32, buf: u32) -> u32;
    pub fn args_get(argv: u32, buf: u32) -> u32;
    pub fn clock_time_get(id: u32, precision: i64, ret: u32) -> u32;
    pub fn clock_res_get(id: u32, ret: u32) -> u32;
    pub fn random_get(p: u32, s: u32) -> u32;
    pub fn fd_pwrite(fd: u32, iovs: u32, count: u32, offset: i64, ret: u32) -> u32;
    pub fn fd_pread(fd: u32, iovs: u32, count: u32, offset: i64, ret: u32) -> u32;
    pub fn fd_tell(fd: u32, ret: u32) -> u32;
    pub fn fd_datasync(fd: u32) -> u32;
    pub fn fd_sync(fd: u32) -> u32;
    pub fn fd_allocate(fd: u32, offset: i64, len: i64) -> u32;
    pub fn fd_advise(fd: u32, offset: i64, len: i64, advice: u32) -> u32;
    pub fn fd_fdstat_set_flags(fd: u32, flags: u32) -> u32;
    pub fn fd_fdstat_set_rights(fd: u32, base: i64, inheriting: i64) -> u32;
    pub fn fd_filestat_get(fd: u32, ret: u32) -> u32;
    pub fn fd_filestat_set_size(fd: u32, size: i64) -> u32;
    pub fn fd_filestat_set_times(fd: u32, atim: i64, mtim: i64, flags: u32) -> u32;
    pub fn fd_renumber(fd: u32, to: u32) -> u32;
    pub fn fd_readdir(fd: u32, buf: u32, len: u32, cookie: i64, ret: u32) -> u32;
    pub fn path_open(
        fd: u32,
        dirflags: u32,
        p: u32,
        s: u32,
        oflags: u32,
        base: i64,
        inheriting: i64,
        fdflags: u32,
        ret: u32,
    ) -> u32;
    pub fn path_filestat_get(fd: u32, flags: u32, p: u32, s: u32, ret: u32) -> u32;
    pub fn path_filestat_set_times(
        fd: u32,
        flags: u32,
        p: u32,
        s: u32,
        atim: i64,
        mtim: i64,
        fst: u32,
    ) -> u32;
    pub fn path_create_directory(fd: u32, p: u32, s: u32) -> u32;
    pub fn path_remove_directory(fd: u32, p: u32, s: u32) -> u32;
    pub fn path_unlink_file(fd: u32, p: u32, s: u32) -> u32;
    pub fn path_rename(fd: u32, op: u32, os: u32, nfd: u32, np: u32, ns: u32) -> u32;
    pub fn path_readlink(fd: u32, p: u32, s: u32, buf: u32, len: u32, ret: u32) -> u32;
    pub fn sock_accept(fd: u32, flags: u32, ret: u32) -> u32;
    pub fn sock_recv(fd: u32, p: u32, s: u32, flags: u32, ret_len: u32, ret_flags: u32) -> u32;
    pub fn sock_send(fd: u32, p: u32, s: u32, flags: u32, ret: u32) -> u32;
    pub fn sock_shutdown(fd: u32, how: u32) -> u32;
}
