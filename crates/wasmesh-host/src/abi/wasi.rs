//! The WASI preview1 subset Rust modules import: stdout/stderr go to the
//! log, clocks, randomness, empty args and environment, and `proc_exit`
//! as a trap. Nothing touches the host's files or network: every other fd
//! is `BADF`.

use wasmtime::Linker;

use super::memory::{read, with_bytes, write, write_u32, write_u64};
use super::{AbiError, Caller};
use crate::store::HostState;

const SUCCESS: u32 = 0;
const BADF: u32 = 8;
const FAULT: u32 = 21;
const INVAL: u32 = 28;
const NOTSUP: u32 = 58;

/// Most bytes one `random_get` may ask for.
const MAX_RANDOM: u32 = 64 << 10;

fn errno(result: Result<u32, AbiError>) -> wasmtime::Result<u32> {
    match result {
        Ok(code) => Ok(code),
        Err(AbiError::Status(_)) => Ok(FAULT),
        Err(AbiError::Trap(trap)) => Err(trap),
    }
}

fn fd_write(
    caller: &mut Caller<'_>,
    fd: u32,
    iovs: u32,
    count: u32,
    ret: u32,
) -> Result<u32, AbiError> {
    if fd != 1 && fd != 2 {
        return Ok(BADF);
    }
    if count > 1024 {
        return Ok(INVAL);
    }
    let table = read(caller, iovs, count.saturating_mul(8))?;
    let mut message = Vec::new();
    for iov in table.chunks_exact(8) {
        let ptr = u32::from_le_bytes(iov[0..4].try_into().unwrap_or_default());
        let len = u32::from_le_bytes(iov[4..8].try_into().unwrap_or_default());
        with_bytes(caller, ptr, len, |bytes, _| {
            message.extend_from_slice(bytes)
        })?;
    }
    let level = if fd == 1 {
        log::Level::Info
    } else {
        log::Level::Error
    };
    super::log::emit(caller.data(), level, &message);
    write_u32(caller, ret, message.len() as u32)?;
    Ok(SUCCESS)
}

/// Registers this family's hostcalls with the linker.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    const W: &str = "wasi_snapshot_preview1";
    linker.func_wrap(
        W,
        "fd_write",
        |mut c: Caller<'_>, fd: u32, iovs: u32, n: u32, ret: u32| {
            errno(fd_write(&mut c, fd, iovs, n, ret))
        },
    )?;
    linker.func_wrap(
        W,
        "fd_read",
        |_: Caller<'_>, _: u32, _: u32, _: u32, _: u32| Ok(BADF),
    )?;
    linker.func_wrap(W, "fd_close", |_: Caller<'_>, _: u32| Ok(BADF))?;
    linker.func_wrap(
        W,
        "fd_seek",
        |_: Caller<'_>, _: u32, _: i64, _: u32, _: u32| Ok(BADF),
    )?;
    linker.func_wrap(W, "fd_fdstat_get", |_: Caller<'_>, _: u32, _: u32| Ok(BADF))?;
    linker.func_wrap(W, "fd_prestat_get", |_: Caller<'_>, _: u32, _: u32| {
        Ok(BADF)
    })?;
    linker.func_wrap(
        W,
        "fd_prestat_dir_name",
        |_: Caller<'_>, _: u32, _: u32, _: u32| Ok(BADF),
    )?;
    linker.func_wrap(W, "sched_yield", |_: Caller<'_>| Ok(SUCCESS))?;
    linker.func_wrap(
        W,
        "poll_oneoff",
        |_: Caller<'_>, _: u32, _: u32, _: u32, _: u32| Ok(NOTSUP),
    )?;
    for name in ["environ_sizes_get", "args_sizes_get"] {
        linker.func_wrap(W, name, |mut c: Caller<'_>, count: u32, size: u32| {
            errno((|| {
                write_u32(&mut c, count, 0)?;
                write_u32(&mut c, size, 0)?;
                Ok(SUCCESS)
            })())
        })?;
    }
    for name in ["environ_get", "args_get"] {
        linker.func_wrap(W, name, |_: Caller<'_>, _: u32, _: u32| Ok(SUCCESS))?;
    }
    linker.func_wrap(
        W,
        "clock_time_get",
        |mut c: Caller<'_>, id: u32, _precision: u64, ret: u32| {
            errno((|| {
                let nanos = match id {
                    0 => c.data().embedder.now_nanos(),
                    1..=3 => monotonic_nanos(),
                    _ => return Ok(INVAL),
                };
                write_u64(&mut c, ret, nanos)?;
                Ok(SUCCESS)
            })())
        },
    )?;
    linker.func_wrap(
        W,
        "clock_res_get",
        |mut c: Caller<'_>, id: u32, ret: u32| {
            errno((|| {
                if id > 3 {
                    return Ok(INVAL);
                }
                write_u64(&mut c, ret, 1)?;
                Ok(SUCCESS)
            })())
        },
    )?;
    linker.func_wrap(W, "random_get", |mut c: Caller<'_>, ptr: u32, len: u32| {
        errno((|| {
            if len > MAX_RANDOM {
                return Ok(INVAL);
            }
            let mut bytes = vec![0u8; len as usize];
            if crate::entropy::fill(&mut bytes).is_err() {
                return Ok(NOTSUP);
            }
            write(&mut c, ptr, &bytes)?;
            Ok(SUCCESS)
        })())
    })?;
    linker.func_wrap(
        W,
        "proc_exit",
        |_: Caller<'_>, code: u32| -> wasmtime::Result<()> {
            Err(wasmtime::Error::msg(format!(
                "guest called proc_exit({code})"
            )))
        },
    )?;
    Ok(())
}

fn monotonic_nanos() -> u64 {
    use std::sync::OnceLock;
    static START: OnceLock<std::time::Instant> = OnceLock::new();
    START
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_nanos() as u64
}
