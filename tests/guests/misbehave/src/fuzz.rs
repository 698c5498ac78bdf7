//! The `fuzz` case: calls every hostcall the host links, many times, with random arguments
//! (seeded by `x-fuzz-seed`, `x-fuzz-calls` calls), counts the statuses each one returned and
//! answers them as JSON. The host must answer each call with a status — never panic, hang, or
//! accept a pointer outside memory — and keep serving.

#![allow(unsafe_code)] // the summary reply is sent through the raw import, like the fuzzed calls.

mod args;
mod calls;
mod imports;
mod wasi_calls;
mod wasi_stub_calls;

/// Status names as the abi-test guest spells them in its reports (one list for both guests).
#[allow(dead_code)] // only `name` is used here
#[path = "../../abi-test/src/status.rs"]
mod status;

use std::collections::BTreeMap;

use proxy_wasm::types::Action;

use self::args::Args;
use self::calls::Call;

/// Request header with the PRNG seed (decimal u64; 0 when absent or unparsable).
pub const SEED_HEADER: &str = "x-fuzz-seed";
/// Request header with the number of calls to make.
pub const CALLS_HEADER: &str = "x-fuzz-calls";
/// Calls made when `x-fuzz-calls` is absent.
pub const DEFAULT_CALLS: u32 = 2000;
/// Most calls one request may ask for (the callback time cap must not be what ends it).
const MAX_CALLS: u32 = 100_000;

/// The label for a success the host should not have given (the test expects none).
const OK_OUT_OF_BOUNDS: &str = "OkOutOfBounds";

/// Per hostcall, how many times each status came back.
type Counts = BTreeMap<&'static str, BTreeMap<String, u32>>;

/// Runs the fuzz for one request on stream `context_id` and answers it.
///
/// The answer is a 200 with the JSON summary, except: for seeds ≡ 3 (mod 4) a local reply the
/// fuzz itself made (a successful `proxy_send_local_response`) is left to stand, so the host's
/// handling of random replies reaches the client too; for seeds ≡ 2 (mod 4) `proxy_close_stream`
/// may succeed, and then the host resets the stream (the summary reply cannot undo that).
pub fn run(context_id: u32, seed: u64, calls: u32) -> Action {
    let calls = calls.min(MAX_CALLS);
    log::info!("misbehave fuzz: seed {seed}, {calls} calls");
    let table: Vec<(Call, bool)> = calls::CALLS
        .iter()
        .map(|c| (*c, false))
        .chain(wasi_calls::CALLS.iter().map(|c| (*c, true)))
        .chain(wasi_stub_calls::CALLS.iter().map(|c| (*c, true)))
        .collect();
    let mut args = Args::new(seed);
    let mut counts = Counts::new();
    for i in 0..calls {
        // Each hostcall once in order first, so every one is covered even for short runs.
        let pick = if (i as usize) < table.len() {
            i as usize
        } else {
            args.below(table.len() as u32) as usize
        };
        let ((name, call), wasi) = table[pick];
        let status = call(&mut args);
        let label = if status == 0 && args.take_out_of_bounds() {
            // Success although a range the call must read or write was outside memory.
            OK_OUT_OF_BOUNDS.to_string()
        } else if wasi {
            errno(status)
        } else {
            status::name(status)
        };
        args.take_out_of_bounds();
        *counts.entry(name).or_default().entry(label).or_default() += 1;
    }
    // Undo what would outlive this request or misdirect the reply: the effective context may
    // have been switched, a tick period set.
    // SAFETY: plain integers; the host validates them.
    unsafe {
        imports::proxy_set_effective_context(context_id);
        imports::proxy_set_tick_period_milliseconds(0);
    }
    let replied = ok_count(&counts, "proxy_send_local_response");
    if seed % 4 == 3 && replied > 0 {
        log::info!("misbehave fuzz: seed {seed}: leaving the fuzz's own local reply to stand");
        return Action::Pause;
    }
    reply(&summary(seed, calls, &counts))
}

/// How many times `name` returned Ok.
fn ok_count(counts: &Counts, name: &str) -> u32 {
    counts
        .get(name)
        .and_then(|c| c.get("Ok"))
        .copied()
        .unwrap_or(0)
}

/// `{"seed":…,"calls":…,"statuses":{"<hostcall>":{"<status>":count,…},…}}`.
fn summary(seed: u64, calls: u32, counts: &Counts) -> String {
    let per_call: Vec<String> = counts
        .iter()
        .map(|(name, statuses)| {
            let fields: Vec<String> = statuses
                .iter()
                .map(|(status, n)| format!("\"{status}\":{n}"))
                .collect();
            format!("\"{name}\":{{{}}}", fields.join(","))
        })
        .collect();
    format!(
        "{{\"seed\":{seed},\"calls\":{calls},\"statuses\":{{{}}}}}\n",
        per_call.join(",")
    )
}

/// Answers with `body` (JSON) through the raw import; on failure lets the request go on.
fn reply(body: &str) -> Action {
    let headers = serialize_pairs(&[("content-type", "application/json")]);
    let details = b"misbehave_fuzz_summary";
    // SAFETY: every pointer is to live guest memory of the given length.
    let status = unsafe {
        imports::proxy_send_local_response(
            200,
            details.as_ptr() as u32,
            details.len() as u32,
            body.as_ptr() as u32,
            body.len() as u32,
            headers.as_ptr() as u32,
            headers.len() as u32,
            -1,
        )
    };
    if status != 0 {
        log::error!("misbehave fuzz: the summary reply failed with status {status}");
        return Action::Continue;
    }
    Action::Pause
}

/// The proxy-wasm pair serialization: count, (key len, value len) per pair, then `key\0value\0`.
fn serialize_pairs(pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut out = (pairs.len() as u32).to_le_bytes().to_vec();
    for (k, v) in pairs {
        out.extend_from_slice(&(k.len() as u32).to_le_bytes());
        out.extend_from_slice(&(v.len() as u32).to_le_bytes());
    }
    for (k, v) in pairs {
        for part in [k, v] {
            out.extend_from_slice(part.as_bytes());
            out.push(0);
        }
    }
    out
}

/// A WASI errno by name (success is `Ok`, like the proxy statuses).
fn errno(code: u32) -> String {
    let name = match code {
        0 => "Ok",
        8 => "BADF",
        21 => "FAULT",
        28 => "INVAL",
        58 => "NOTSUP",
        other => return format!("errno{other}"),
    };
    name.to_string()
}
