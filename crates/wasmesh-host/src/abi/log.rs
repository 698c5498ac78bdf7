//! `proxy_log` and `proxy_get_log_level`: a filter's log lines go to its embedder
//! ([`Embedder::log`](crate::embedder::Embedder::log)), at the matching level.

use wasmtime::Linker;

use super::memory::{with_bytes, write_u32};
use super::{finish, Caller, Status};
use crate::store::HostState;

/// Maps `proxy_log_level_t` to the `log` crate's level.
fn level(raw: u32) -> Option<log::Level> {
    match raw {
        0 => Some(log::Level::Trace),
        1 => Some(log::Level::Debug),
        2 => Some(log::Level::Info),
        3 => Some(log::Level::Warn),
        4 | 5 => Some(log::Level::Error),
        _ => None,
    }
}

/// A level filter as `proxy_log_level_t`.
fn level_code(filter: log::LevelFilter) -> u32 {
    match filter {
        log::LevelFilter::Trace => 0,
        log::LevelFilter::Debug => 1,
        log::LevelFilter::Info => 2,
        log::LevelFilter::Warn => 3,
        log::LevelFilter::Error => 4,
        log::LevelFilter::Off => 5,
    }
}

/// Writes one guest log line (also used by WASI `fd_write`).
pub fn emit(state: &HostState, level: log::Level, message: &[u8]) {
    let message = String::from_utf8_lossy(message);
    state.embedder.log(&state.plugin, level, message.trim_end());
}

/// Registers this family's hostcalls with the linker.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        "env",
        "proxy_log",
        |mut caller: Caller<'_>, lvl: u32, ptr: u32, size: u32| {
            finish((|| {
                let level = level(lvl).ok_or(Status::BadArgument)?;
                with_bytes(&mut caller, ptr, size, |msg, state| emit(state, level, msg))?;
                Ok(())
            })())
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_log_level",
        |mut caller: Caller<'_>, ret: u32| {
            let level = level_code(caller.data().embedder.log_level());
            finish(write_u32(&mut caller, ret, level))
        },
    )?;
    Ok(())
}
