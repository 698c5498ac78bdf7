//! `proxy_call_foreign_function`: this host registers no foreign functions,
//! so every name is `NotFound` (after checking the guest's pointers).

use wasmtime::Linker;

use super::memory::with_two;
use super::{finish, Caller, Status};
use crate::store::HostState;

/// Registers this family's hostcalls with the linker.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        "env",
        "proxy_call_foreign_function",
        |mut caller: Caller<'_>,
         nptr: u32,
         nsize: u32,
         aptr: u32,
         asize: u32,
         _ret_ptr: u32,
         _ret_size: u32| {
            finish((|| {
                with_two(&mut caller, (nptr, nsize), (aptr, asize), |_, _, _| ())?;
                Err(Status::NotFound.into())
            })())
        },
    )?;
    Ok(())
}
