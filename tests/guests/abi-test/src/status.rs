//! Names for proxy-wasm statuses, as the JSON reports spell them (`"Ok"`, `"NotFound"`, ...).
//!
//! Raw codes are named too, including ones the SDK's `Status` enum lacks (`Unimplemented`),
//! because those are exactly the answers that differ between hosts.

use proxy_wasm::types::Status;

/// The name of a raw `proxy_status_t` code (spec names, CamelCase); unknown codes are
/// `Unknown(<n>)`.
pub fn name(code: u32) -> String {
    let known = match code {
        0 => "Ok",
        1 => "NotFound",
        2 => "BadArgument",
        3 => "SerializationFailure",
        4 => "ParseFailure",
        5 => "BadExpression",
        6 => "InvalidMemoryAccess",
        7 => "Empty",
        8 => "CasMismatch",
        9 => "ResultMismatch",
        10 => "InternalFailure",
        11 => "BrokenConnection",
        12 => "Unimplemented",
        other => return format!("Unknown({other})"),
    };
    known.to_string()
}

/// The name of an SDK status.
pub fn of(status: Status) -> String {
    name(status as u32)
}

/// `"Ok"` for `Ok(_)`, else the status name.
pub fn of_result<T>(result: &Result<T, Status>) -> String {
    match result {
        Ok(_) => name(0),
        Err(status) => of(*status),
    }
}
