//! WASI preview1, linked under both `wasi_snapshot_preview1` and `wasi_unstable` (AssemblyScript
//! and older toolchains import the latter), answering as Envoy's host (proxy-wasm-cpp-host)
//! answers, so a module built by Go, AssemblyScript, C or Rust loads and behaves as in Envoy.
//! Stdout and stderr go to the log; clocks and randomness are real; args and environment are
//! empty. Nothing reaches the host's files, sockets or processes: every other call is a stub
//! that answers Envoy's errno (often `BADF`, `NOSYS` or `NOTSUP`, a few "succeed" doing nothing).
//! One module per family: `stdio` (descriptors 1 and 2), `fs` (paths, pre-opens, directories),
//! `sock`, `process` (args, environment, clocks, randomness, polling, exit).

mod fs;
mod process;
mod sock;
mod stdio;

use wasmtime::Linker;

use super::AbiError;
use crate::store::HostState;

/// The names WASI is imported under: preview1 and its predecessor, whose functions have the same
/// wasm signatures (Envoy links the same functions under both).
const MODULES: [&str; 2] = ["wasi_snapshot_preview1", "wasi_unstable"];

const SUCCESS: u32 = 0;
const BADF: u32 = 8;
const NOTDIR: u32 = 20;
const FAULT: u32 = 21;
const INVAL: u32 = 28;
const NOENT: u32 = 44;
const NOSYS: u32 = 52;
const NOTSUP: u32 = 58;

/// A WASI call's errno: a guest pointer outside its memory is `FAULT`, a broken guest a trap.
fn errno(result: Result<u32, AbiError>) -> wasmtime::Result<u32> {
    match result {
        Ok(code) => Ok(code),
        Err(AbiError::Status(_)) => Ok(FAULT),
        Err(AbiError::Trap(trap)) => Err(trap),
    }
}

/// Writes a zero u32 at `ptr` (an out-parameter Envoy zeroes), then answers `code`.
fn zeroed(caller: &mut super::Caller<'_>, ptr: u32, code: u32) -> wasmtime::Result<u32> {
    errno(super::memory::write_u32(caller, ptr, 0).map(|()| code))
}

/// Stdout and stderr: the only descriptors a filter has.
fn stdio(fd: u32) -> bool {
    fd == 1 || fd == 2
}

/// Links a call that answers `$errno` whatever its arguments (of wasm types `$ty`).
macro_rules! constant {
    ($linker:expr, $module:expr, $name:literal, ($($ty:ty),*) => $errno:expr) => {
        $linker.func_wrap($module, $name, |_: $crate::abi::Caller<'_>, $(_: $ty),*| {
            Ok($errno)
        })?
    };
}
use constant;

/// Registers every WASI preview1 function under both module names.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    for module in MODULES {
        stdio::add_to_linker(linker, module)?;
        fs::add_to_linker(linker, module)?;
        sock::add_to_linker(linker, module)?;
        process::add_to_linker(linker, module)?;
    }
    Ok(())
}
