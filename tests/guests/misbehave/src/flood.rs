//! The `flood-shared-data` and `flood-metrics` cases: state a filter creates and never frees,
//! written under fresh names until the host refuses (or `x-flood-count` writes were made), so a
//! test can show whether a host caps it. Each answers how many writes succeeded, the status of
//! the first refused one (`null` if none was) and whether the first write is still there.

use proxy_wasm::hostcalls;

use crate::raw;

/// Request header: most writes to make (default [`DEFAULT_COUNT`]).
pub const COUNT_HEADER: &str = "x-flood-count";
/// Request header: first index of the names written (default 0), so a flood can span requests.
pub const START_HEADER: &str = "x-flood-start";
/// Request header: bytes per shared-data value (default [`DEFAULT_VALUE_BYTES`]).
pub const BYTES_HEADER: &str = "x-flood-bytes";
/// Writes made when `x-flood-count` is absent.
pub const DEFAULT_COUNT: u64 = 10_000;
/// Value size when `x-flood-bytes` is absent: 64 KiB, so a 64 MiB cap is reached in ~1 000 keys.
pub const DEFAULT_VALUE_BYTES: usize = 64 << 10;
/// Name prefix of the flooded keys and metrics.
const PREFIX: &str = "misbehave_flood_";

/// What a flood did, as the JSON the case answers.
fn report(key: &str, done: u64, refused: Option<u32>, first_there: bool) -> String {
    let refused = refused.map_or("null".to_string(), |s| s.to_string());
    format!("{{\"{key}\":{done},\"refused_status\":{refused},\"first_there\":{first_there}}}\n")
}

/// Sets `misbehave_flood_<start+i>` to `bytes` bytes for i in 0..count, until a set fails.
pub fn shared_data(start: u64, count: u64, bytes: usize) -> String {
    let value = vec![b'v'; bytes];
    let mut stored = 0;
    let mut refused = None;
    for i in start..start.saturating_add(count) {
        let status = raw::set_shared_data(format!("{PREFIX}{i}").as_bytes(), &value);
        if status != 0 {
            refused = Some(status);
            break;
        }
        stored += 1;
    }
    let first = hostcalls::get_shared_data(&format!("{PREFIX}0"));
    let first_there = matches!(first, Ok((Some(v), _)) if v.len() == bytes);
    log::info!("misbehave flood-shared-data: {stored} keys stored, refused: {refused:?}");
    report("stored", stored, refused, first_there)
}

/// Defines counters `misbehave_flood_<start+i>` for i in 0..count, until a definition fails.
pub fn metrics(start: u64, count: u64) -> String {
    let mut defined = 0;
    let mut refused = None;
    for i in start..start.saturating_add(count) {
        let status = raw::define_counter(&format!("{PREFIX}{i}"));
        if status != 0 {
            refused = Some(status);
            break;
        }
        defined += 1;
    }
    // Defining an existing name again only looks it up: it must still succeed.
    let first_there = raw::define_counter(&format!("{PREFIX}0")) == 0;
    log::info!("misbehave flood-metrics: {defined} metrics defined, refused: {refused:?}");
    report("defined", defined, refused, first_there)
}
