//! Every hostcall the `hostcalls` guest can make, and the guest's WAT built from that list:
//! one import per hostcall and one wrapper per import with the same signature (ten i32
//! arguments), so the guest's interpreter calls any of them through one `call_indirect`.
//! Generated rather than written out, so the list here, the guest and the harness's checks
//! cannot disagree.

/// One hostcall: where it is imported from and its parameters, `i` for an `i32` taken from the
/// next argument and `I` for an `i64` made of the next two (low word first). Arguments wrap
/// around after the tenth (`proxy_grpc_call` takes twelve).
pub struct Op {
    /// `env` (proxy-wasm: answers a `proxy_status_t`) or `wasi_snapshot_preview1` (an errno).
    pub module: &'static str,
    /// The import's name.
    pub name: &'static str,
    /// Parameter kinds, one letter each.
    pub params: &'static str,
    /// False for the one import that returns nothing (`proc_exit`).
    pub returns: bool,
}

const fn env(name: &'static str, params: &'static str) -> Op {
    Op {
        module: "env",
        name,
        params,
        returns: true,
    }
}

const WASI: &str = "wasi_snapshot_preview1";

const fn wasi(name: &'static str, params: &'static str) -> Op {
    Op {
        module: WASI,
        name,
        params,
        returns: true,
    }
}

/// The guest's operations, by number (an input's op byte is taken modulo the length).
pub const OPS: &[Op] = &[
    env("proxy_log", "iii"),
    env("proxy_get_log_level", "i"),
    env("proxy_get_current_time_nanoseconds", "i"),
    env("proxy_set_tick_period_milliseconds", "i"),
    env("proxy_get_header_map_size", "ii"),
    env("proxy_get_header_map_pairs", "iii"),
    env("proxy_set_header_map_pairs", "iii"),
    env("proxy_get_header_map_value", "iiiii"),
    env("proxy_add_header_map_value", "iiiii"),
    env("proxy_replace_header_map_value", "iiiii"),
    env("proxy_remove_header_map_value", "iii"),
    env("proxy_get_buffer_status", "iii"),
    env("proxy_get_buffer_bytes", "iiiii"),
    env("proxy_set_buffer_bytes", "iiiii"),
    env("proxy_get_property", "iiii"),
    env("proxy_set_property", "iiii"),
    env("proxy_get_shared_data", "iiiii"),
    env("proxy_set_shared_data", "iiiii"),
    env("proxy_register_shared_queue", "iii"),
    env("proxy_resolve_shared_queue", "iiiii"),
    env("proxy_enqueue_shared_queue", "iii"),
    env("proxy_dequeue_shared_queue", "iii"),
    env("proxy_define_metric", "iiii"),
    env("proxy_increment_metric", "iI"),
    env("proxy_record_metric", "iI"),
    env("proxy_get_metric", "ii"),
    env("proxy_http_call", "iiiiiiiiii"),
    env("proxy_continue_stream", "i"),
    env("proxy_close_stream", "i"),
    env("proxy_send_local_response", "iiiiiiii"),
    env("proxy_done", ""),
    env("proxy_set_effective_context", "i"),
    env("proxy_get_status", "iii"),
    env("proxy_call_foreign_function", "iiiiii"),
    env("proxy_continue_request", ""),
    env("proxy_continue_response", ""),
    env("proxy_clear_route_cache", ""),
    env("proxy_grpc_call", "iiiiiiiiiiii"),
    env("proxy_grpc_stream", "iiiiiiiii"),
    env("proxy_grpc_send", "iiii"),
    env("proxy_grpc_cancel", "i"),
    env("proxy_grpc_close", "i"),
    wasi("fd_write", "iiii"),
    wasi("fd_read", "iiii"),
    wasi("fd_close", "i"),
    wasi("fd_seek", "iIii"),
    wasi("fd_fdstat_get", "ii"),
    wasi("fd_prestat_get", "ii"),
    wasi("fd_prestat_dir_name", "iii"),
    wasi("sched_yield", ""),
    wasi("poll_oneoff", "iiii"),
    wasi("environ_sizes_get", "ii"),
    wasi("args_sizes_get", "ii"),
    wasi("environ_get", "ii"),
    wasi("args_get", "ii"),
    wasi("clock_time_get", "iIi"),
    wasi("clock_res_get", "ii"),
    wasi("random_get", "ii"),
    Op {
        module: WASI,
        name: "proc_exit",
        params: "i",
        returns: false,
    },
    // Appended, so the op numbers of saved inputs keep their meaning.
    wasi("fd_pwrite", "iiiIi"),
    wasi("fd_pread", "iiiIi"),
    wasi("fd_tell", "ii"),
    wasi("fd_datasync", "i"),
    wasi("fd_sync", "i"),
    wasi("fd_allocate", "iII"),
    wasi("fd_advise", "iIIi"),
    wasi("fd_fdstat_set_flags", "ii"),
    wasi("fd_fdstat_set_rights", "iII"),
    wasi("fd_filestat_get", "ii"),
    wasi("fd_filestat_set_size", "iI"),
    wasi("fd_filestat_set_times", "iIIi"),
    wasi("fd_renumber", "ii"),
    wasi("fd_readdir", "iiiIi"),
    wasi("path_open", "iiiiiIIii"),
    wasi("path_filestat_get", "iiiii"),
    wasi("path_filestat_set_times", "iiiiIIi"),
    wasi("path_create_directory", "iii"),
    wasi("path_remove_directory", "iii"),
    wasi("path_unlink_file", "iii"),
    wasi("path_rename", "iiiiii"),
    wasi("path_link", "iiiiiii"),
    wasi("path_symlink", "iiiii"),
    wasi("path_readlink", "iiiiii"),
    wasi("sock_accept", "iii"),
    wasi("sock_recv", "iiiiii"),
    wasi("sock_send", "iiiii"),
    wasi("sock_shutdown", "ii"),
    wasi("proc_raise", "i"),
];

/// The op number of the hostcall called `name` (for seeds and tests).
pub fn op(name: &str) -> u8 {
    let index = OPS.iter().position(|op| op.name == name);
    index.unwrap_or_else(|| panic!("no op {name}")) as u8
}

/// The guest: `guests/hostcalls.wat` with the imports and the wrappers filled in.
pub fn guest_wat() -> String {
    let mut imports = String::new();
    let mut wrappers = String::new();
    for (i, op) in OPS.iter().enumerate() {
        let mut params = String::new();
        let mut args = String::new();
        let mut next = 0;
        for kind in op.params.chars() {
            let arg = |n: usize| format!("(local.get {})", n % 10);
            if kind == 'I' {
                params.push_str(" i64");
                args.push_str(&format!(
                    " (i64.or (i64.extend_i32_u {}) (i64.shl (i64.extend_i32_u {}) (i64.const 32)))",
                    arg(next),
                    arg(next + 1)
                ));
                next += 2;
            } else {
                params.push_str(" i32");
                args.push_str(&format!(" {}", arg(next)));
                next += 1;
            }
        }
        let result = if op.returns { " (result i32)" } else { "" };
        imports.push_str(&format!(
            "  (import \"{}\" \"{}\" (func $h{i} (param{params}){result}))\n",
            op.module, op.name
        ));
        // A status outside the family's set traps (`unreachable` in $checked_*): the harness
        // reports any trap but `proc_exit`'s.
        let body = match (op.returns, op.module) {
            (false, _) => format!("(call $h{i}{args}) (i32.const 0)"),
            (true, "env") => format!("(call $checked_status (call $h{i}{args}))"),
            (true, _) => format!("(call $checked_errno (call $h{i}{args}))"),
        };
        wrappers.push_str(&format!("  (func $op{i} (type $op) {body})\n"));
    }
    let names: Vec<String> = (0..OPS.len()).map(|i| format!("$op{i}")).collect();
    wrappers.push_str(&format!(
        "  (table $ops {n} {n} funcref)\n  (elem (table $ops) (i32.const 0) func {})\n",
        names.join(" "),
        n = OPS.len()
    ));
    include_str!("../../guests/hostcalls.wat")
        .replace(";; @IMPORTS\n", &imports)
        .replace(";; @OPS\n", &wrappers)
}
