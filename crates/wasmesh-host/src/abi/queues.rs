//! Shared queues: register (the registering root context gets
//! `on_queue_ready`), resolve, enqueue, dequeue.

use wasmtime::Linker;

use super::memory::{read, read_string, return_bytes, write_u32};
use super::{finish, Caller, Status};
use crate::state::queues::QueueError;
use crate::store::HostState;

fn status(error: QueueError) -> Status {
    match error {
        QueueError::NotFound => Status::NotFound,
        QueueError::Empty => Status::Empty,
        // No status says "full"; BadArgument, as for an over-size shared-data value.
        QueueError::Refused => Status::BadArgument,
    }
}

/// Registers this family's hostcalls with the linker.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        "env",
        "proxy_register_shared_queue",
        |mut caller: Caller<'_>, ptr: u32, size: u32, ret_id: u32| {
            finish((|| {
                let name = read_string(&mut caller, ptr, size)?;
                let state = caller.data();
                let waker = state.queue_waker.clone();
                // The queue wakes the root of the registering context, whichever context it is.
                let root = state.root_context;
                let id = state
                    .shared
                    .queues
                    .register(
                        &state.plugin.vm_id,
                        &name,
                        Box::new(move |id| waker(root, id)),
                    )
                    .map_err(status)?;
                write_u32(&mut caller, ret_id, id)
            })())
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_resolve_shared_queue",
        |mut caller: Caller<'_>, vptr: u32, vsize: u32, nptr: u32, nsize: u32, ret_id: u32| {
            finish((|| {
                let vm_id = read_string(&mut caller, vptr, vsize)?;
                let name = read_string(&mut caller, nptr, nsize)?;
                let state = caller.data();
                // An empty VM id names the caller's own, as in Envoy.
                let vm_id = match vm_id.is_empty() {
                    true => state.plugin.vm_id.as_str(),
                    false => vm_id.as_str(),
                };
                let id = state
                    .shared
                    .queues
                    .resolve(vm_id, &name)
                    .ok_or(Status::NotFound)?;
                write_u32(&mut caller, ret_id, id)
            })())
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_enqueue_shared_queue",
        |mut caller: Caller<'_>, id: u32, ptr: u32, size: u32| {
            finish((|| {
                let item = read(&mut caller, ptr, size)?;
                caller
                    .data()
                    .shared
                    .queues
                    .enqueue(id, item)
                    .map_err(|e| status(e).into())
            })())
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_dequeue_shared_queue",
        |mut caller: Caller<'_>, id: u32, ret_ptr: u32, ret_size: u32| {
            finish((|| {
                let item = caller.data().shared.queues.dequeue(id).map_err(status)?;
                return_bytes(&mut caller, &item, ret_ptr, ret_size)
            })())
        },
    )?;
    Ok(())
}
