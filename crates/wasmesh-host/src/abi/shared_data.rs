//! `proxy_get_shared_data` / `proxy_set_shared_data`: host-wide key-value
//! data with compare-and-swap, scoped by the plugin's VM id.

use wasmtime::Linker;

use super::memory::{read, return_bytes, with_two, write_u32};
use super::{finish, Caller, Status};
use crate::state::shared_data::SetOutcome;
use crate::store::HostState;

/// Largest value a guest may store, so one filter cannot eat the host's memory.
pub const MAX_VALUE_BYTES: usize = 16 << 20;

/// Registers this family's hostcalls with the linker.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        "env",
        "proxy_get_shared_data",
        |mut caller: Caller<'_>,
         kptr: u32,
         ksize: u32,
         ret_ptr: u32,
         ret_size: u32,
         ret_cas: u32| {
            finish((|| {
                let key = read(&mut caller, kptr, ksize)?;
                let state = caller.data();
                let (value, cas) = state
                    .shared
                    .shared_data
                    .get(&state.plugin.vm_id, &key)
                    .ok_or(Status::NotFound)?;
                write_u32(&mut caller, ret_cas, cas)?;
                return_bytes(&mut caller, &value, ret_ptr, ret_size)
            })())
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_set_shared_data",
        |mut caller: Caller<'_>, kptr: u32, ksize: u32, vptr: u32, vsize: u32, cas: u32| {
            finish((|| {
                if vsize as usize > MAX_VALUE_BYTES {
                    return Err(Status::BadArgument.into());
                }
                let outcome =
                    with_two(&mut caller, (kptr, ksize), (vptr, vsize), |k, v, state| {
                        state.shared.shared_data.set(&state.plugin.vm_id, k, v, cas)
                    })?;
                match outcome {
                    SetOutcome::Ok => Ok(()),
                    SetOutcome::CasMismatch => Err(Status::CasMismatch.into()),
                    // Over the VM id's total cap: BadArgument, as for an over-size value.
                    SetOutcome::Refused => Err(Status::BadArgument.into()),
                }
            })())
        },
    )?;
    Ok(())
}
