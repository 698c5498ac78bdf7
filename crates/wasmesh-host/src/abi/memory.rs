//! Bounds-checked access to a guest's linear memory, and handing data back
//! through the guest's own allocator. Every pointer a guest passes goes
//! through here; a bad one becomes `InvalidMemoryAccess`, never a host fault.

use wasmtime::{Extern, Memory};

use super::{AbiError, Caller, Status};
use crate::store::HostState;

fn memory(caller: &mut Caller<'_>) -> Result<Memory, AbiError> {
    if let Some(memory) = caller.data().memory {
        return Ok(memory);
    }
    // During the start function the cache is not filled yet.
    match caller.get_export("memory") {
        Some(Extern::Memory(memory)) => Ok(memory),
        _ => Err(Status::InvalidMemoryAccess.into()),
    }
}

fn range(len: usize, ptr: u32, size: u32) -> Result<std::ops::Range<usize>, AbiError> {
    let start = ptr as usize;
    let end = start
        .checked_add(size as usize)
        .ok_or(Status::InvalidMemoryAccess)?;
    if end > len {
        return Err(Status::InvalidMemoryAccess.into());
    }
    Ok(start..end)
}

/// Runs `f` on the guest bytes at `ptr..ptr+size` and the host state, without copying.
pub fn with_bytes<R>(
    caller: &mut Caller<'_>,
    ptr: u32,
    size: u32,
    f: impl FnOnce(&[u8], &mut HostState) -> R,
) -> Result<R, AbiError> {
    let memory = memory(caller)?;
    let (data, state) = memory.data_and_store_mut(&mut *caller);
    let range = range(data.len(), ptr, size)?;
    Ok(f(&data[range], state))
}

/// Like [`with_bytes`] for two guest ranges at once (key and value, say).
pub fn with_two<R>(
    caller: &mut Caller<'_>,
    (p1, s1): (u32, u32),
    (p2, s2): (u32, u32),
    f: impl FnOnce(&[u8], &[u8], &mut HostState) -> R,
) -> Result<R, AbiError> {
    let memory = memory(caller)?;
    let (data, state) = memory.data_and_store_mut(&mut *caller);
    let r1 = range(data.len(), p1, s1)?;
    let r2 = range(data.len(), p2, s2)?;
    Ok(f(&data[r1], &data[r2], state))
}

/// Copies guest bytes out.
pub fn read(caller: &mut Caller<'_>, ptr: u32, size: u32) -> Result<Vec<u8>, AbiError> {
    with_bytes(caller, ptr, size, |bytes, _| bytes.to_vec())
}

/// Copies guest bytes out as UTF-8 text (lossy: names are for lookups and logs).
pub fn read_string(caller: &mut Caller<'_>, ptr: u32, size: u32) -> Result<String, AbiError> {
    with_bytes(caller, ptr, size, |bytes, _| {
        String::from_utf8_lossy(bytes).into_owned()
    })
}

/// Writes raw bytes at a guest address.
pub fn write(caller: &mut Caller<'_>, ptr: u32, bytes: &[u8]) -> Result<(), AbiError> {
    let memory = memory(caller)?;
    copy_into(memory.data_mut(&mut *caller), ptr, bytes)
}

/// Copies `bytes` into the guest memory `data` at `ptr`, bounds-checked.
fn copy_into(data: &mut [u8], ptr: u32, bytes: &[u8]) -> Result<(), AbiError> {
    let range = range(data.len(), ptr, bytes.len() as u32)?;
    data[range].copy_from_slice(bytes);
    Ok(())
}

/// Writes a little-endian u32 (the ABI's pointers and sizes).
pub fn write_u32(caller: &mut Caller<'_>, ptr: u32, value: u32) -> Result<(), AbiError> {
    write(caller, ptr, &value.to_le_bytes())
}

/// Writes a little-endian u64.
pub fn write_u64(caller: &mut Caller<'_>, ptr: u32, value: u64) -> Result<(), AbiError> {
    write(caller, ptr, &value.to_le_bytes())
}

/// The most scratch capacity kept for the next hostcall: a rare large value (a body, a big
/// map) is not held on to.
const SCRATCH_KEPT: usize = 16 * 1024;

/// [`return_bytes`] of what `fill` writes into the VM's scratch buffer: a hostcall returning
/// a header value or a map allocates nothing on the host once the buffer has grown.
pub fn return_filled(
    caller: &mut Caller<'_>,
    ptr_ptr: u32,
    size_ptr: u32,
    fill: impl FnOnce(&mut Caller<'_>, &mut Vec<u8>) -> Result<(), AbiError>,
) -> Result<(), AbiError> {
    let mut scratch = std::mem::take(&mut caller.data_mut().scratch);
    scratch.clear();
    let result =
        fill(caller, &mut scratch).and_then(|()| return_bytes(caller, &scratch, ptr_ptr, size_ptr));
    if scratch.capacity() <= SCRATCH_KEPT {
        caller.data_mut().scratch = scratch;
    }
    result
}

/// Hands `bytes` to the guest: allocates with its allocator, copies, and
/// stores the pointer and size at `ptr_ptr` / `size_ptr`. Empty data is
/// returned as a null pointer and size 0, as Envoy does.
pub fn return_bytes(
    caller: &mut Caller<'_>,
    bytes: &[u8],
    ptr_ptr: u32,
    size_ptr: u32,
) -> Result<(), AbiError> {
    let memory = memory(caller)?;
    // Check the out-pointers first so a bad one costs no allocation.
    {
        let len = memory.data_size(&*caller);
        range(len, ptr_ptr, 4)?;
        range(len, size_ptr, 4)?;
    }
    let mut guest_ptr = 0;
    if !bytes.is_empty() {
        let size = u32::try_from(bytes.len()).map_err(|_| Status::InternalFailure)?;
        // Taken out and put back rather than cloned: a `TypedFunc` clone copies its
        // registered type (reference counts in the engine's registry), on every hostcall that
        // returns data. The allocator calls no hostcall that returns data, so it never finds
        // the slot empty.
        let alloc = caller
            .data_mut()
            .alloc
            .take()
            .ok_or(Status::InternalFailure)?;
        let called = alloc.call(&mut *caller, size);
        caller.data_mut().alloc = Some(alloc);
        guest_ptr = called.map_err(AbiError::Trap)?;
        if guest_ptr == 0 {
            return Err(Status::InternalFailure.into());
        }
    }
    // The data and both out-values written through one borrow of the memory (which the
    // allocator may have grown): each borrow looks the memory up in the store again, and this
    // runs for every hostcall that returns data.
    let data = memory.data_mut(&mut *caller);
    if guest_ptr != 0 {
        copy_into(data, guest_ptr, bytes)?;
    }
    copy_into(data, ptr_ptr, &guest_ptr.to_le_bytes())?;
    copy_into(data, size_ptr, &(bytes.len() as u32).to_le_bytes())
}
