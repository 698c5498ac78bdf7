//! Tick timers and the clock: `proxy_set_tick_period_milliseconds` (applied
//! by the worker after the callback) and `proxy_get_current_time_nanoseconds`.

use std::time::Duration;

use wasmtime::Linker;

use super::memory::write_u64;
use super::{finish, Caller};
use crate::store::HostState;

/// Registers this family's hostcalls with the linker.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        "env",
        "proxy_set_tick_period_milliseconds",
        |mut caller: Caller<'_>, period: u32| {
            caller.data_mut().effects.tick_period = Some(Duration::from_millis(period as u64));
            finish(Ok(()))
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_current_time_nanoseconds",
        |mut caller: Caller<'_>, ret: u32| {
            let now = caller.data().embedder.now_nanos();
            finish(write_u64(&mut caller, ret, now))
        },
    )?;
    Ok(())
}
