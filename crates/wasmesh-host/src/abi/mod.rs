//! The proxy-wasm ABI (v0.2.1, also 0.2.0) as wasmtime host functions, one
//! module per family. Two tiers of error, as in wasmtime's WASI: a bad
//! argument from the guest is a [`Status`] it sees; a broken guest (its
//! allocator traps, say) is a trap that tears the VM down.

mod buffers;
pub mod capabilities;
mod foreign;
mod grpc;
mod headers;
mod http_call;
mod log;
pub mod memory;
mod metrics;
pub mod properties;
mod queues;
mod shared_data;
mod stream;
mod timers;

mod wasi;

use wasmtime::Linker;

use crate::store::HostState;

/// `proxy_status_t`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Success.
    Ok = 0,
    /// No such key, buffer, metric or queue.
    NotFound = 1,
    /// An argument the host cannot use.
    BadArgument = 2,
    /// A value could not be serialised.
    SerializationFailure = 3,
    /// Input could not be parsed.
    ParseFailure = 4,
    /// A pointer or size outside the guest's memory.
    InvalidMemoryAccess = 6,
    /// The queue is empty.
    Empty = 7,
    /// Compare-and-swap lost.
    CasMismatch = 8,
    /// The host failed.
    InternalFailure = 10,
    /// Not offered by this host.
    Unimplemented = 12,
}

/// A hostcall's failure: a status the guest sees, or a trap.
pub enum AbiError {
    /// Returned to the guest.
    Status(Status),
    /// Tears the VM down.
    Trap(wasmtime::Error),
}

impl From<Status> for AbiError {
    fn from(status: Status) -> Self {
        AbiError::Status(status)
    }
}

/// What hostcall bodies return.
pub type AbiResult = Result<(), AbiError>;

/// Turns a hostcall body's result into what wasmtime returns to the guest.
pub fn finish(result: AbiResult) -> wasmtime::Result<u32> {
    match result {
        Ok(()) => Ok(Status::Ok as u32),
        Err(AbiError::Status(status)) => Ok(status as u32),
        Err(AbiError::Trap(trap)) => Err(trap),
    }
}

/// The caller type every hostcall receives.
pub type Caller<'a> = wasmtime::Caller<'a, HostState>;

/// Registers every hostcall family with the linker.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    log::add_to_linker(linker)?;
    headers::add_to_linker(linker)?;
    buffers::add_to_linker(linker)?;
    properties::add_to_linker(linker)?;
    stream::add_to_linker(linker)?;
    shared_data::add_to_linker(linker)?;
    queues::add_to_linker(linker)?;
    metrics::add_to_linker(linker)?;
    http_call::add_to_linker(linker)?;
    timers::add_to_linker(linker)?;
    grpc::add_to_linker(linker)?;
    foreign::add_to_linker(linker)?;
    wasi::add_to_linker(linker)?;
    Ok(())
}
