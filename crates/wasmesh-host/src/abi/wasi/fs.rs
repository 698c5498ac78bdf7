//! Paths, pre-opened directories and directory listings: a filter has no file system, so
//! there is nothing pre-opened (`BADF`), nothing to open (`NOENT`), and every path call answers
//! Envoy's `NOTSUP` (out-pointers zeroed where Envoy zeroes them).
//!
//! `path_link` and `path_symlink` take preview1's seven and five arguments; Envoy's host declares
//! them with one fewer, so a module importing them links here but not in Envoy.

use wasmtime::Linker;

use super::{constant, zeroed, BADF, NOENT, NOSYS, NOTDIR, NOTSUP};
use crate::abi::Caller;
use crate::store::HostState;

/// Registers this family under `module`.
pub fn add_to_linker(linker: &mut Linker<HostState>, module: &str) -> wasmtime::Result<()> {
    constant!(linker, module, "fd_prestat_get", (u32, u32) => BADF);
    constant!(linker, module, "fd_prestat_dir_name", (u32, u32, u32) => NOSYS);
    constant!(linker, module, "fd_filestat_get", (u32, u32) => BADF);
    constant!(linker, module, "path_open",
        (u32, u32, u32, u32, u32, u64, u64, u32, u32) => NOENT);
    constant!(linker, module, "path_filestat_get", (u32, u32, u32, u32, u32) => NOTSUP);
    constant!(linker, module, "path_filestat_set_times",
        (u32, u32, u32, u32, u64, u64, u32) => NOTSUP);
    constant!(linker, module, "path_create_directory", (u32, u32, u32) => NOTSUP);
    constant!(linker, module, "path_remove_directory", (u32, u32, u32) => NOTSUP);
    constant!(linker, module, "path_unlink_file", (u32, u32, u32) => NOTSUP);
    constant!(linker, module, "path_rename", (u32, u32, u32, u32, u32, u32) => NOTSUP);
    constant!(linker, module, "path_link", (u32, u32, u32, u32, u32, u32, u32) => NOTSUP);
    constant!(linker, module, "path_symlink", (u32, u32, u32, u32, u32) => NOTSUP);
    linker.func_wrap(
        module,
        "path_readlink",
        |mut c: Caller<'_>, _: u32, _: u32, _: u32, _: u32, _: u32, ret: u32| {
            zeroed(&mut c, ret, NOTSUP)
        },
    )?;
    linker.func_wrap(
        module,
        "fd_readdir",
        |mut c: Caller<'_>, _: u32, _: u32, _: u32, _: u64, ret: u32| zeroed(&mut c, ret, NOTDIR),
    )?;
    Ok(())
}
