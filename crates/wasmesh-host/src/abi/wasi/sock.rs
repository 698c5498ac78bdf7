//! Sockets: a filter reaches the network only through `proxy_http_call` and gRPC, so every
//! socket call answers `NOTSUP`, zeroing its out-pointers first, as Envoy's host does.

use wasmtime::Linker;

use super::{constant, errno, zeroed, NOTSUP};
use crate::abi::memory::{write, write_u32};
use crate::abi::Caller;
use crate::store::HostState;

/// Registers this family under `module`.
pub fn add_to_linker(linker: &mut Linker<HostState>, module: &str) -> wasmtime::Result<()> {
    // Envoy writes 8 zero bytes for the new descriptor; preview1's `fd` is 4, and writing past
    // it would clobber the guest's memory, so this writes 4.
    linker.func_wrap(
        module,
        "sock_accept",
        |mut c: Caller<'_>, _: u32, _: u32, ret: u32| zeroed(&mut c, ret, NOTSUP),
    )?;
    linker.func_wrap(
        module,
        "sock_recv",
        |mut c: Caller<'_>, _: u32, _: u32, _: u32, _: u32, ret_len: u32, ret_flags: u32| {
            errno((|| {
                write_u32(&mut c, ret_len, 0)?;
                write(&mut c, ret_flags, &0u16.to_le_bytes())?;
                Ok(NOTSUP)
            })())
        },
    )?;
    linker.func_wrap(
        module,
        "sock_send",
        |mut c: Caller<'_>, _: u32, _: u32, _: u32, _: u32, ret: u32| zeroed(&mut c, ret, NOTSUP),
    )?;
    constant!(linker, module, "sock_shutdown", (u32, u32) => NOTSUP);
    Ok(())
}
