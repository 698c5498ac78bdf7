//! The WASI imports wasmesh links as stubs, as Envoy's host does (descriptors other than stdio,
//! paths, sockets): one entry each, so the fuzz shows that none of them reads or writes outside
//! the guest's memory or reaches the host, whatever the arguments. Left out, since this guest
//! must load in Envoy too: `proc_raise` (Envoy does not link it), `path_link` and `path_symlink`
//! (Envoy links them with one argument fewer than preview1).

#![allow(unsafe_code)] // raw WASI imports with unchecked arguments.

use super::args::Args;
use super::calls::Call;
use super::imports as wasi;
use super::wasi_calls::{call, fd};

/// A (pointer, size) the host must not read: anywhere, any length.
fn path(a: &mut Args) -> (u32, u32) {
    let p = a.ptr();
    (p, a.size(p))
}

/// Every stub WASI import.
pub const CALLS: &[Call] = &[
    call!(fd_pwrite, |a| {
        let (fd, (iovs, _), n) = (fd(a), a.iovecs(), a.one_of(&[0, 1, 2]));
        wasi::fd_pwrite(fd, iovs, n, a.any64() as i64, a.out(0))
    }),
    call!(fd_pread, |a| {
        let (fd, (iovs, _), n) = (fd(a), a.iovecs(), a.any());
        wasi::fd_pread(fd, iovs, n, a.any64() as i64, a.out(0))
    }),
    call!(fd_tell, |a| wasi::fd_tell(fd(a), a.out8(2))),
    call!(fd_datasync, |a| wasi::fd_datasync(fd(a))),
    call!(fd_sync, |a| wasi::fd_sync(fd(a))),
    call!(fd_allocate, |a| wasi::fd_allocate(
        fd(a),
        a.any64() as i64,
        a.any64() as i64
    )),
    call!(fd_advise, |a| {
        let fd = fd(a);
        wasi::fd_advise(fd, a.any64() as i64, a.any64() as i64, a.enumeration(5))
    }),
    call!(fd_fdstat_set_flags, |a| wasi::fd_fdstat_set_flags(
        fd(a),
        a.any()
    )),
    call!(fd_fdstat_set_rights, |a| wasi::fd_fdstat_set_rights(
        fd(a),
        a.any64() as i64,
        a.any64() as i64
    )),
    call!(fd_filestat_get, |a| wasi::fd_filestat_get(fd(a), a.ptr())),
    call!(fd_filestat_set_size, |a| wasi::fd_filestat_set_size(
        fd(a),
        a.any64() as i64
    )),
    call!(fd_filestat_set_times, |a| {
        let fd = fd(a);
        wasi::fd_filestat_set_times(fd, a.any64() as i64, a.any64() as i64, a.any())
    }),
    call!(fd_renumber, |a| wasi::fd_renumber(fd(a), fd(a))),
    call!(fd_readdir, |a| {
        let (fd, (p, s)) = (fd(a), path(a));
        wasi::fd_readdir(fd, p, s, a.any64() as i64, a.out(0))
    }),
    call!(path_open, |a| {
        let (fd, flags, (p, s)) = (fd(a), a.any(), path(a));
        let (base, inheriting) = (a.any64() as i64, a.any64() as i64);
        wasi::path_open(
            fd,
            flags,
            p,
            s,
            a.any(),
            base,
            inheriting,
            a.any(),
            a.out(0),
        )
    }),
    call!(path_filestat_get, |a| {
        let (fd, flags, (p, s)) = (fd(a), a.any(), path(a));
        wasi::path_filestat_get(fd, flags, p, s, a.ptr())
    }),
    call!(path_filestat_set_times, |a| {
        let (fd, flags, (p, s)) = (fd(a), a.any(), path(a));
        wasi::path_filestat_set_times(fd, flags, p, s, a.any64() as i64, a.any64() as i64, a.any())
    }),
    call!(path_create_directory, |a| {
        let (fd, (p, s)) = (fd(a), path(a));
        wasi::path_create_directory(fd, p, s)
    }),
    call!(path_remove_directory, |a| {
        let (fd, (p, s)) = (fd(a), path(a));
        wasi::path_remove_directory(fd, p, s)
    }),
    call!(path_unlink_file, |a| {
        let (fd, (p, s)) = (fd(a), path(a));
        wasi::path_unlink_file(fd, p, s)
    }),
    call!(path_rename, |a| {
        let (fd, (op, os), nfd, (np, ns)) = (fd(a), path(a), fd(a), path(a));
        wasi::path_rename(fd, op, os, nfd, np, ns)
    }),
    call!(path_readlink, |a| {
        let (fd, (p, s), (buf, len)) = (fd(a), path(a), path(a));
        wasi::path_readlink(fd, p, s, buf, len, a.out(0))
    }),
    call!(sock_accept, |a| wasi::sock_accept(fd(a), a.any(), a.out(0))),
    call!(sock_recv, |a| {
        let (fd, (p, s), flags) = (fd(a), path(a), a.any());
        wasi::sock_recv(fd, p, s, flags, a.out(0), a.out(1))
    }),
    call!(sock_send, |a| {
        let (fd, (p, s), flags) = (fd(a), path(a), a.any());
        wasi::sock_send(fd, p, s, flags, a.out(0))
    }),
    call!(sock_shutdown, |a| wasi::sock_shutdown(
        fd(a),
        a.enumeration(3)
    )),
];
