//! One entry per WASI preview1 import wasmesh links (`crates/wasmesh-host/src/abi/wasi.rs`), except
//! `proc_exit` (it ends the VM by design; the `exit` case tests it). Same rules as
//! [`super::calls`]: well-formed arguments often, hostile ones otherwise.

#![allow(unsafe_code)] // raw WASI imports with unchecked arguments.

use super::args::Args;
use super::calls::Call;
use super::imports as wasi;

/// Descriptors worth trying: stdin, stdout, stderr, the first pre-open slot, an unused one.
const FDS: &[u32] = &[0, 1, 2, 3, 5];

/// A descriptor: a known one most of the time, else random.
pub(super) fn fd(a: &mut Args) -> u32 {
    if a.chance(80) {
        a.one_of(FDS)
    } else {
        a.any()
    }
}

/// An iovec count: none, one (the valid table), two (past it), more than the host's cap, random.
fn iov_count(a: &mut Args) -> u32 {
    let any = a.any();
    a.one_of(&[0, 1, 2, 1025, any])
}

macro_rules! call {
    ($name:ident, |$a:ident| $body:expr) => {
        (stringify!($name), |$a: &mut Args| unsafe { $body })
    };
}
pub(super) use call;

/// Every WASI import but `proc_exit`.
pub const CALLS: &[Call] = &[
    call!(fd_write, |a| {
        let (fd, (iovs, _), n, ret) = (fd(a), a.iovecs(), iov_count(a), a.out(0));
        wasi::fd_write(fd, iovs, n, ret)
    }),
    call!(fd_read, |a| {
        let (fd, (iovs, _), n, ret) = (fd(a), a.iovecs(), iov_count(a), a.out(0));
        wasi::fd_read(fd, iovs, n, ret)
    }),
    call!(fd_close, |a| wasi::fd_close(fd(a))),
    // Succeeds without writing the new offset, as Envoy's does: the pointer is never read, so a
    // hostile one is not noted as out of bounds.
    call!(fd_seek, |a| {
        let (fd, offset, whence) = (fd(a), a.any64() as i64, a.enumeration(2));
        wasi::fd_seek(fd, offset, whence, a.ptr())
    }),
    call!(fd_fdstat_get, |a| wasi::fd_fdstat_get(fd(a), a.ptr())),
    call!(fd_prestat_get, |a| wasi::fd_prestat_get(fd(a), a.ptr())),
    call!(fd_prestat_dir_name, |a| {
        let fd = fd(a);
        let p = a.ptr();
        wasi::fd_prestat_dir_name(fd, p, a.size(p))
    }),
    call!(sched_yield, |_a| wasi::sched_yield()),
    call!(poll_oneoff, |a| {
        let (subs, events, any) = (a.ptr(), a.ptr(), a.any());
        let n = a.one_of(&[0, 1, any]);
        wasi::poll_oneoff(subs, events, n, a.out(0))
    }),
    call!(environ_sizes_get, |a| wasi::environ_sizes_get(
        a.out(0),
        a.out(1)
    )),
    call!(args_sizes_get, |a| wasi::args_sizes_get(a.out(0), a.out(1))),
    call!(environ_get, |a| wasi::environ_get(a.ptr(), a.ptr())),
    call!(args_get, |a| wasi::args_get(a.ptr(), a.ptr())),
    call!(clock_time_get, |a| {
        let (id, precision) = (a.enumeration(3), a.any64() as i64);
        wasi::clock_time_get(id, precision, a.out8(2))
    }),
    call!(clock_res_get, |a| wasi::clock_res_get(
        a.enumeration(3),
        a.out(2)
    )),
    call!(random_get, |a| {
        // Well-formed: the two u64 out-slots; else anywhere the guest can afford, any length.
        if a.chance(40) {
            let slot = a.slot_ptr(2);
            wasi::random_get(slot, a.below(9))
        } else {
            let p = a.ptr();
            let size = a.size(p);
            let (p, size) = a.writable(p, size);
            a.note(p, size.into());
            wasi::random_get(p, size)
        }
    }),
];
