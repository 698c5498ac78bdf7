//! gRPC calls and streams: not offered yet, so every function answers
//! `Unimplemented` (an issue will ask for them); nothing traps.

use wasmtime::Linker;

use super::{finish, Caller, Status};
use crate::store::HostState;

fn unimplemented() -> wasmtime::Result<u32> {
    finish(Err(Status::Unimplemented.into()))
}

/// Registers this family's hostcalls with the linker.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        "env",
        "proxy_grpc_call",
        |_: Caller<'_>,
         _: u32,
         _: u32,
         _: u32,
         _: u32,
         _: u32,
         _: u32,
         _: u32,
         _: u32,
         _: u32,
         _: u32,
         _: u32,
         _: u32| { unimplemented() },
    )?;
    linker.func_wrap(
        "env",
        "proxy_grpc_stream",
        |_: Caller<'_>, _: u32, _: u32, _: u32, _: u32, _: u32, _: u32, _: u32, _: u32, _: u32| {
            unimplemented()
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_grpc_send",
        |_: Caller<'_>, _: u32, _: u32, _: u32, _: u32| unimplemented(),
    )?;
    linker.func_wrap("env", "proxy_grpc_cancel", |_: Caller<'_>, _: u32| {
        unimplemented()
    })?;
    linker.func_wrap("env", "proxy_grpc_close", |_: Caller<'_>, _: u32| {
        unimplemented()
    })?;
    Ok(())
}
