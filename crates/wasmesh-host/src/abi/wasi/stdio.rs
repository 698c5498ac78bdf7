//! The descriptor calls. Writes to stdout and stderr become log lines (info and error), as in
//! Envoy; the calls that would change a descriptor "succeed" on 1 and 2 and answer `BADF`
//! elsewhere; reading answers `NOSYS`. `fd_seek` and `fd_close` succeed on any descriptor, as
//! Envoy's do (they only log there).

use wasmtime::Linker;

use super::{constant, errno, stdio, BADF, INVAL, NOSYS, NOTSUP, SUCCESS};
use crate::abi::memory::{read, with_bytes, write, write_u32, write_u64};
use crate::abi::{AbiError, Caller};
use crate::store::HostState;

/// Most iovecs one write may pass: past it the guest is refused, not looped over.
const MAX_IOVECS: u32 = 1024;

/// `fs_rights_base` a stdio descriptor reports: `FD_WRITE` only.
const RIGHTS_FD_WRITE: u64 = 64;

/// Gathers the iovecs and logs them as one line (trailing newline trimmed); an empty write logs
/// nothing, as in Envoy.
fn write_stdio(caller: &mut Caller<'_>, fd: u32, iovs: u32, count: u32) -> Result<u32, AbiError> {
    let table = read(caller, iovs, count.saturating_mul(8))?;
    let mut message = Vec::new();
    for iov in table.chunks_exact(8) {
        let ptr = u32::from_le_bytes([iov[0], iov[1], iov[2], iov[3]]);
        let len = u32::from_le_bytes([iov[4], iov[5], iov[6], iov[7]]);
        with_bytes(caller, ptr, len, |bytes, _| {
            message.extend_from_slice(bytes)
        })?;
    }
    let written = message.len() as u32;
    if !message.is_empty() {
        let level = if fd == 1 {
            log::Level::Info
        } else {
            log::Level::Error
        };
        crate::abi::log::emit(caller.data(), level, &message);
    }
    Ok(written)
}

/// `fd_write` and `fd_pwrite` (whose offset means nothing on a log).
fn fd_write(
    caller: &mut Caller<'_>,
    fd: u32,
    iovs: u32,
    count: u32,
    ret: u32,
) -> wasmtime::Result<u32> {
    errno((|| {
        if !stdio(fd) {
            return Ok(BADF);
        }
        if count > MAX_IOVECS {
            return Ok(INVAL);
        }
        let written = write_stdio(caller, fd, iovs, count)?;
        write_u32(caller, ret, written)?;
        Ok(SUCCESS)
    })())
}

/// Registers this family under `module`.
pub fn add_to_linker(linker: &mut Linker<HostState>, module: &str) -> wasmtime::Result<()> {
    linker.func_wrap(
        module,
        "fd_write",
        |mut c: Caller<'_>, fd: u32, iovs: u32, n: u32, ret: u32| {
            fd_write(&mut c, fd, iovs, n, ret)
        },
    )?;
    linker.func_wrap(
        module,
        "fd_pwrite",
        |mut c: Caller<'_>, fd: u32, iovs: u32, n: u32, _offset: u64, ret: u32| {
            fd_write(&mut c, fd, iovs, n, ret)
        },
    )?;
    linker.func_wrap(
        module,
        "fd_fdstat_get",
        |mut c: Caller<'_>, fd: u32, ret: u32| {
            errno((|| {
                if !stdio(fd) {
                    return Ok(BADF);
                }
                // filetype and flags 0, rights: write only, nothing inherited.
                let mut stat = [0u8; 24];
                stat[8..16].copy_from_slice(&RIGHTS_FD_WRITE.to_le_bytes());
                write(&mut c, ret, &stat)?;
                Ok(SUCCESS)
            })())
        },
    )?;
    linker.func_wrap(module, "fd_tell", |mut c: Caller<'_>, fd: u32, ret: u32| {
        errno((|| {
            if !stdio(fd) {
                return Ok(BADF);
            }
            write_u64(&mut c, ret, 0)?;
            Ok(SUCCESS)
        })())
    })?;
    let if_stdio = |fd: u32| Ok(if stdio(fd) { SUCCESS } else { BADF });
    linker.func_wrap(module, "fd_datasync", move |_: Caller<'_>, fd: u32| {
        if_stdio(fd)
    })?;
    linker.func_wrap(module, "fd_sync", move |_: Caller<'_>, fd: u32| {
        if_stdio(fd)
    })?;
    linker.func_wrap(
        module,
        "fd_allocate",
        move |_: Caller<'_>, fd: u32, _: u64, _: u64| if_stdio(fd),
    )?;
    linker.func_wrap(
        module,
        "fd_fdstat_set_rights",
        move |_: Caller<'_>, fd: u32, _: u64, _: u64| if_stdio(fd),
    )?;
    linker.func_wrap(
        module,
        "fd_filestat_set_size",
        move |_: Caller<'_>, fd: u32, _: u64| if_stdio(fd),
    )?;
    linker.func_wrap(
        module,
        "fd_filestat_set_times",
        move |_: Caller<'_>, fd: u32, _: u64, _: u64, _: u32| if_stdio(fd),
    )?;
    linker.func_wrap(module, "fd_renumber", |_: Caller<'_>, fd: u32, to: u32| {
        Ok(if stdio(fd) && stdio(to) { NOTSUP } else { BADF })
    })?;
    constant!(linker, module, "fd_read", (u32, u32, u32, u32) => NOSYS);
    constant!(linker, module, "fd_pread", (u32, u32, u32, u64, u32) => NOSYS);
    constant!(linker, module, "fd_fdstat_set_flags", (u32, u32) => NOSYS);
    constant!(linker, module, "fd_advise", (u32, u64, u64, u32) => SUCCESS);
    constant!(linker, module, "fd_seek", (u32, i64, u32, u32) => SUCCESS);
    constant!(linker, module, "fd_close", (u32) => SUCCESS);
    Ok(())
}
