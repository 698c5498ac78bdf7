//! What a module asks of its process: arguments and environment (none), clocks, randomness,
//! polling, yielding and exit.
//!
//! `poll_oneoff` answers success with no events, as Envoy does: Go's runtime polls while it
//! panics, and any error there turns the filter's panic into "panic during panic", losing its
//! message. Only the realtime and monotonic clocks exist (`NOTSUP` for the CPU-time ones).
//! `proc_exit` ends the VM: Envoy's returns into a guest that has no code after it, which traps
//! there (tests/tests/envoy_isolation.rs, `proc_exit_traps_like_a_panic`). `proc_raise`, which
//! Envoy does not link, answers `NOSYS`.

use wasmtime::Linker;

use super::{constant, errno, zeroed, INVAL, NOSYS, NOTSUP, SUCCESS};
use crate::abi::memory::{write, write_u32, write_u64};
use crate::abi::Caller;
use crate::store::HostState;

/// Most bytes one `random_get` may ask for (Envoy's limit).
const MAX_RANDOM: u32 = 64 << 10;

const REALTIME: u32 = 0;
const MONOTONIC: u32 = 1;

/// Registers this family under `module`.
pub fn add_to_linker(linker: &mut Linker<HostState>, module: &str) -> wasmtime::Result<()> {
    for name in ["environ_sizes_get", "args_sizes_get"] {
        linker.func_wrap(module, name, |mut c: Caller<'_>, count: u32, size: u32| {
            errno((|| {
                write_u32(&mut c, count, 0)?;
                write_u32(&mut c, size, 0)?;
                Ok(SUCCESS)
            })())
        })?;
    }
    constant!(linker, module, "environ_get", (u32, u32) => SUCCESS);
    constant!(linker, module, "args_get", (u32, u32) => SUCCESS);
    linker.func_wrap(
        module,
        "clock_time_get",
        |mut c: Caller<'_>, id: u32, _precision: u64, ret: u32| {
            errno((|| {
                let nanos = match id {
                    REALTIME => c.data().embedder.now_nanos(),
                    MONOTONIC => monotonic_nanos(),
                    _ => return Ok(NOTSUP),
                };
                write_u64(&mut c, ret, nanos)?;
                Ok(SUCCESS)
            })())
        },
    )?;
    linker.func_wrap(
        module,
        "clock_res_get",
        |mut c: Caller<'_>, id: u32, ret: u32| {
            errno((|| {
                if id != REALTIME && id != MONOTONIC {
                    return Ok(NOTSUP);
                }
                write_u64(&mut c, ret, 1)?;
                Ok(SUCCESS)
            })())
        },
    )?;
    linker.func_wrap(
        module,
        "random_get",
        |mut c: Caller<'_>, ptr: u32, len: u32| {
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
        },
    )?;
    linker.func_wrap(
        module,
        "poll_oneoff",
        |mut c: Caller<'_>, _in: u32, _out: u32, _count: u32, ret: u32| {
            zeroed(&mut c, ret, SUCCESS)
        },
    )?;
    constant!(linker, module, "sched_yield", () => SUCCESS);
    constant!(linker, module, "proc_raise", (u32) => NOSYS);
    linker.func_wrap(
        module,
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
