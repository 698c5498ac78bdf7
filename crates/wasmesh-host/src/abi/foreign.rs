//! `proxy_call_foreign_function`: the functions Envoy registers that mean something without
//! Envoy's internals. Any other name is `NotFound` (after checking the guest's pointers), as in
//! Envoy for a name it does not have.
//!
//! - `compress` / `uncompress`: zlib, as Envoy's (`zlib.rs`).
//! - `clear_route_cache`: `Ok`, with nothing to clear. Envoy caches the route a request picked
//!   and a filter that changes headers must clear it for the change to count; wasmesh picks the
//!   route only after every request-header callback has run, so a filter's changes always count,
//!   which is what the call asks for.
//! - `declare_property`: a property's declaration, of which wasmesh keeps read-only-ness
//!   (`declare.rs`).
//! - `set_envoy_filter_state`: the filter-state objects that mean something here
//!   (`filter_state.rs`: `envoy.tcp_proxy.cluster`).
//! - `verify_signature` / `sign`: RSA and ECDSA with Envoy's messages (`signature.rs`).
//! - `expr_create` / `expr_evaluate` / `expr_delete`: CEL over the context's attributes
//!   (`cel.rs`).

mod cel;
mod declare;
mod filter_state;
mod signature;
mod zlib;

use wasmtime::Linker;

use super::memory::{read, read_string, return_bytes};
use super::{finish, AbiError, Caller, Status};
use crate::store::HostState;

/// Runs foreign function `name` on `arguments`: its result bytes, or the status Envoy's
/// function answers.
fn call(name: &str, arguments: &[u8], state: &mut HostState) -> Result<Vec<u8>, Status> {
    match name {
        "declare_property" => declare::declare(arguments, state),
        "compress" => zlib::compress(arguments),
        // The result must fit in the guest's memory: more is refused before it is made.
        "uncompress" => zlib::uncompress(arguments, state.plugin.memory_bytes),
        "clear_route_cache" => Ok(Vec::new()),
        "set_envoy_filter_state" => filter_state::set(arguments, state),
        "verify_signature" => signature::verify(arguments),
        "sign" => signature::sign(arguments),
        "expr_create" => cel::create(arguments, state),
        "expr_evaluate" => cel::evaluate(arguments, state),
        "expr_delete" => cel::delete(arguments, state),
        _ => Err(Status::NotFound),
    }
}

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
         ret_ptr: u32,
         ret_size: u32| {
            finish((|| {
                let name = read_string(&mut caller, nptr, nsize)?;
                let arguments = read(&mut caller, aptr, asize)?;
                let result = call(&name, &arguments, caller.data_mut()).map_err(AbiError::from)?;
                return_bytes(&mut caller, &result, ret_ptr, ret_size)
            })())
        },
    )?;
    Ok(())
}
