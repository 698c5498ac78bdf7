//! A module reaching for the host through WASI: files, directories, the
//! scheduler and exit. The host must answer with errors (no host files or
//! network) and treat `proc_exit` as the end of this VM, not the process.

#![allow(unsafe_code)] // raw WASI imports: the SDK and std never make these calls.

#[link(wasm_import_module = "wasi_snapshot_preview1")]
extern "C" {
    fn fd_read(fd: u32, iovs: *const u32, iovs_len: u32, nread: *mut u32) -> u32;
    fn fd_close(fd: u32) -> u32;
    fn fd_seek(fd: u32, offset: i64, whence: u32, new_offset: *mut u64) -> u32;
    fn fd_fdstat_get(fd: u32, stat: *mut u8) -> u32;
    fn fd_prestat_get(fd: u32, prestat: *mut u8) -> u32;
    fn fd_prestat_dir_name(fd: u32, path: *mut u8, len: u32) -> u32;
    fn poll_oneoff(subs: *const u8, events: *mut u8, count: u32, nevents: *mut u32) -> u32;
    fn sched_yield() -> u32;
    fn clock_res_get(id: u32, resolution: *mut u64) -> u32;
    fn clock_time_get(id: u32, precision: u64, time: *mut u64) -> u32;
    fn fd_fdstat_set_flags(fd: u32, flags: u32) -> u32;
    fn fd_tell(fd: u32, offset: *mut u64) -> u32;
    fn fd_renumber(fd: u32, to: u32) -> u32;
    fn path_open(
        fd: u32,
        dirflags: u32,
        path: *const u8,
        path_len: u32,
        oflags: u32,
        base: u64,
        inheriting: u64,
        fdflags: u32,
        opened: *mut u32,
    ) -> u32;
    fn fd_readdir(fd: u32, buf: *mut u8, len: u32, cookie: u64, used: *mut u32) -> u32;
    fn sock_shutdown(fd: u32, how: u32) -> u32;
    fn proc_exit(code: u32) -> !;
}

/// The errno of each call, by name (stdin, a pre-opened directory, a made-up fd 5).
pub fn reach_for_the_host() -> Vec<(&'static str, u32)> {
    let mut buf = [0u8; 64];
    let iov: [u32; 2] = [buf.as_mut_ptr() as u32, buf.len() as u32];
    let mut n = 0u32;
    let mut offset = 0u64;
    let mut resolution = 0u64;
    // SAFETY: every pointer handed over is to a live local of the right size.
    unsafe {
        vec![
            ("fd_read_stdin", fd_read(0, iov.as_ptr(), 1, &mut n)),
            ("fd_close", fd_close(5)),
            ("fd_seek", fd_seek(5, 0, 0, &mut offset)),
            ("fd_fdstat_get", fd_fdstat_get(5, buf.as_mut_ptr())),
            ("fd_prestat_get", fd_prestat_get(3, buf.as_mut_ptr())),
            (
                "fd_prestat_dir_name",
                fd_prestat_dir_name(3, buf.as_mut_ptr(), 16),
            ),
            (
                "poll_oneoff",
                poll_oneoff(buf.as_ptr(), buf.as_mut_ptr(), 1, &mut n),
            ),
            ("sched_yield", sched_yield()),
            ("clock_res_get", clock_res_get(1, &mut resolution)),
            ("clock_res_get_cputime", clock_res_get(2, &mut resolution)),
            ("clock_time_get_cputime", clock_time_get(3, 0, &mut offset)),
            ("fd_fdstat_get_stdout", fd_fdstat_get(1, buf.as_mut_ptr())),
            ("fd_fdstat_set_flags", fd_fdstat_set_flags(1, 4)),
            ("fd_tell_stdout", fd_tell(1, &mut offset)),
            ("fd_renumber", fd_renumber(1, 2)),
            (
                "path_open",
                path_open(3, 0, b"etc/passwd".as_ptr(), 10, 0, 0, 0, 0, &mut n),
            ),
            ("fd_readdir", fd_readdir(3, buf.as_mut_ptr(), 16, 0, &mut n)),
            ("sock_shutdown", sock_shutdown(3, 2)),
            ("poll_oneoff_events", {
                n = 7;
                poll_oneoff(buf.as_ptr(), buf.as_mut_ptr(), 1, &mut n);
                n
            }),
        ]
    }
}

/// Asks the host to end the process.
pub fn exit() -> ! {
    // SAFETY: no pointers; the host decides what "exit" means for a plugin.
    unsafe { proc_exit(3) }
}
