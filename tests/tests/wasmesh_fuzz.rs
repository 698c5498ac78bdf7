//! Random arguments to every hostcall never hurt the host: the misbehave guest's `fuzz` case
//! (`tests/guests/misbehave/src/fuzz.rs`) calls each hostcall wasmesh links, thousands of times
//! per request, with pointers, sizes, enums and ids drawn from a seeded PRNG, and answers with the
//! statuses it got. Across many seeds the host must answer every request in time, never panic,
//! never say `Ok` to a range outside the guest's memory, and keep serving a well-behaved filter
//! on another listener. A failing seed is printed; replay it with `x-misbehave: fuzz`,
//! `x-fuzz-seed: <seed>`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::time::{Duration, Instant};

use serde_json::Value;
use wasmesh_tests::client::{Client, Echo, Response};
use wasmesh_tests::scenarios::isolation::{Isolation, Limits, GOOD, HEADER, OPEN};

/// Requests, one seed each.
const REQUESTS: u64 = 200;
/// Hostcalls per request: few enough that one callback stays short on a loaded machine (the
/// test runs one worker, so a long fuzz callback delays the well-behaved listener too).
const CALLS_PER_REQUEST: u32 = 300;
/// Every request must be answered within this.
const ANSWER_BOUND: Duration = Duration::from_secs(5);
/// The fuzz plugin's time cap per callback: the calls with megabyte ranges can take a debug build
/// of the host on a busy machine longer than the default 100 ms, and the time cap is not what
/// this test is about (`wasmesh_isolation.rs` tests it).
const CALLBACK_MS: u64 = 1000;
/// What the guest labels a success for a call handed an out-of-bounds range.
const OK_OUT_OF_BOUNDS: &str = "OkOutOfBounds";

/// How one fuzz request ended.
enum Outcome {
    /// The guest's JSON summary: hostcall → status → count.
    Summary(BTreeMap<String, BTreeMap<String, u64>>),
    /// A local reply the fuzz itself made (seeds ≡ 3 mod 4 leave it standing), with its status.
    FuzzReply(u16),
    /// No HTTP answer, for a seed ≡ 2 (mod 4): the fuzz may close the stream (`proxy_close_stream`
    /// succeeded), which resets it, as in Envoy.
    Reset,
    /// The guest trapped (it can corrupt its own memory through random in-bounds pointers), so
    /// `fail_open: true` passed the request to the backend.
    PassThrough,
}

#[test]
fn random_hostcall_arguments_never_hurt_the_host() {
    let iso = Isolation::start(Limits {
        callback_ms: Some(CALLBACK_MS),
        ..Limits::default()
    });
    for listener in [OPEN, GOOD] {
        iso.assert_serves(listener, "before the fuzz");
    }
    let (failures_before, rebuilds_before) = iso.vm_counters();
    let client = Client::http1_unpooled().with_timeout(ANSWER_BOUND);
    let started = Instant::now();
    let mut slowest = (Duration::ZERO, 0);
    let results: Vec<(u64, Result<Outcome, String>)> = iso.while_good_listener_serves(|| {
        (1..=REQUESTS)
            .map(|seed| {
                let started = Instant::now();
                let outcome = fuzz_once(&iso, &client, seed);
                slowest = slowest.max((started.elapsed(), seed));
                (seed, outcome)
            })
            .collect()
    });
    let took = started.elapsed();

    let mut problems = Vec::new();
    let mut totals: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    let (mut summaries, mut passed_through, mut resets) = (0u64, 0u64, 0u64);
    let mut fuzz_replies: BTreeMap<u16, Vec<u64>> = BTreeMap::new();
    for (seed, result) in results {
        match result {
            Ok(Outcome::Summary(statuses)) => {
                summaries += 1;
                for (call, counts) in statuses {
                    if counts.contains_key(OK_OUT_OF_BOUNDS) {
                        problems.push(format!(
                            "seed {seed}: {call} returned Ok for a range outside guest memory"
                        ));
                    }
                    let total = totals.entry(call).or_default();
                    for (status, n) in counts {
                        *total.entry(status).or_default() += n;
                    }
                }
            }
            Ok(Outcome::FuzzReply(status)) => fuzz_replies.entry(status).or_default().push(seed),
            Ok(Outcome::PassThrough) => passed_through += 1,
            Ok(Outcome::Reset) => resets += 1,
            Err(problem) => problems.push(format!("seed {seed}: {problem}")),
        }
    }

    // The host is still up, never panicked, and both listeners serve.
    assert!(
        process_alive(iso.proxy.pid()),
        "wasmesh is no longer running"
    );
    let logs = iso.proxy.logs();
    let host_panics: Vec<&str> = logs.lines().filter(|l| is_host_panic(l)).collect();
    for line in &host_panics {
        problems.push(format!("host log: {line}"));
    }
    for listener in [GOOD, OPEN] {
        iso.assert_serves(listener, "after the fuzz");
    }
    let (failures, rebuilds) = iso.vm_counters();

    // The figures.
    let calls: u64 = totals.values().flat_map(|c| c.values()).sum();
    let mut by_kind: BTreeMap<&str, u64> = BTreeMap::new();
    for counts in totals.values() {
        for (status, n) in counts {
            *by_kind.entry(status.as_str()).or_default() += n;
        }
    }
    println!(
        "fuzz: {REQUESTS} requests ({CALLS_PER_REQUEST} calls each) in {took:?}: {summaries} \
         summaries, {} fuzz-made local replies (status: seeds) {fuzz_replies:?}, {resets} resets after a \
         successful proxy_close_stream, {passed_through} passed through after a guest trap",
        fuzz_replies.values().map(Vec::len).sum::<usize>()
    );
    println!("fuzz: slowest answer {:?} (seed {})", slowest.0, slowest.1);
    println!("fuzz: {calls} hostcalls counted in the summaries; statuses by kind: {by_kind:?}");
    println!(
        "fuzz: wasmesh_vm_failures_total {failures_before} -> {failures}, \
         wasmesh_vm_rebuilds_total {rebuilds_before} -> {rebuilds}"
    );
    for (call, counts) in &totals {
        println!("  {call:<38} {counts:?}");
    }

    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert_exercised(&totals, summaries);
}

/// One request with `seed`, classified; `Err` says what a user could not expect.
fn fuzz_once(iso: &Isolation, client: &Client, seed: u64) -> Result<Outcome, String> {
    let seed_text = seed.to_string();
    let calls_text = CALLS_PER_REQUEST.to_string();
    let headers = [
        (HEADER, "fuzz"),
        ("x-fuzz-seed", seed_text.as_str()),
        ("x-fuzz-calls", calls_text.as_str()),
    ];
    let url = iso.proxy.url(OPEN, "/fuzz");
    let response = match client.send(http::Method::GET, &url, &headers, bytes::Bytes::new()) {
        Ok(response) => response,
        Err(e) if seed % 4 == 2 && !e.contains("within") => return Ok(Outcome::Reset),
        Err(e) => return Err(format!("no HTTP answer: {e}")),
    };
    if let Some(statuses) = summary(&response, seed) {
        return Ok(Outcome::Summary(statuses));
    }
    if serde_json::from_slice::<Echo>(&response.body).is_ok_and(|e| e.backend == "b1") {
        return Ok(Outcome::PassThrough);
    }
    if seed % 4 == 3 {
        return Ok(Outcome::FuzzReply(response.status.as_u16()));
    }
    Err(format!(
        "unexpected answer {}: {:?}",
        response.status,
        response.text()
    ))
}

/// The guest's summary, if `response` is one for `seed`.
fn summary(response: &Response, seed: u64) -> Option<BTreeMap<String, BTreeMap<String, u64>>> {
    if response.status != 200 {
        return None;
    }
    let json: Value = serde_json::from_slice(&response.body).ok()?;
    if json["seed"].as_u64() != Some(seed) {
        return None;
    }
    serde_json::from_value(json["statuses"].clone()).ok()
}

/// A panic of the host: a line in the standard hook's format, `thread '<name>' (<id>) panicked
/// at <file>:<line>:<column>:`. A bare search for "panicked" would not do: the guest logs random
/// stretches of its own memory, which holds the pieces of that very message (from its std).
fn is_host_panic(line: &str) -> bool {
    let parse = || -> Option<()> {
        let rest = line.strip_prefix("thread '")?;
        let (name, rest) = rest.split_once('\'')?;
        let printable = |s: &str| s.bytes().all(|b| b.is_ascii_graphic() || b == b' ');
        if !printable(name) {
            return None;
        }
        let rest = match rest.strip_prefix(" (") {
            Some(id) => {
                let (digits, rest) = id.split_once(')')?;
                digits.bytes().all(|b| b.is_ascii_digit()).then_some(rest)?
            }
            None => rest,
        };
        let location = rest.strip_prefix(" panicked at ")?.strip_suffix(':')?;
        let mut parts = location.rsplitn(3, ':');
        let (column, line_no, file) = (parts.next()?, parts.next()?, parts.next()?);
        let number = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        (number(column) && number(line_no) && file.ends_with(".rs") && printable(file))
            .then_some(())
    };
    parse().is_some()
}

/// Whether process `pid` is still running (not gone, not a zombie).
fn process_alive(pid: u32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let state = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .next()?
                .to_string();
            Some(state != "Z" && state != "X")
        })
        .unwrap_or(false)
}

/// Hostcalls wasmesh links for ABI 0.1.0 modules only (as Envoy does): a 0.2.1 guest that
/// imports them does not load in Envoy, and the misbehave guest must load in both hosts.
const ABI_0_1_ONLY: [&str; 3] = [
    "proxy_continue_request",
    "proxy_continue_response",
    "proxy_clear_route_cache",
];

/// WASI functions wasmesh links that the misbehave guest may not import, since it must load in
/// Envoy too: Envoy does not link `proc_raise`, and links `path_link` and `path_symlink` with one
/// argument fewer than preview1. `proc_exit` ends the VM by design (the `exit` case tests it).
const WASI_NOT_FUZZED: [&str; 4] = ["proc_exit", "proc_raise", "path_link", "path_symlink"];

/// The hostcalls wasmesh links, from its capability report (`wasmesh abi --json`, which a unit
/// test holds to the linker), so a new one the fuzz does not call fails this test: every
/// hostcall but [`ABI_0_1_ONLY`], and every WASI function but [`WASI_NOT_FUZZED`].
fn linked_hostcalls() -> BTreeSet<String> {
    let output = std::process::Command::new(wasmesh_tests::wasmesh_bin())
        .args(["abi", "--json"])
        .output()
        .expect("running wasmesh abi --json");
    assert!(output.status.success(), "wasmesh abi --json: {output:?}");
    let report: Value = serde_json::from_slice(&output.stdout).expect("the report is JSON");
    let names = |list: &Value| -> Vec<String> {
        list.as_array()
            .expect("a list of functions")
            .iter()
            .map(|f| f["name"].as_str().expect("a name").to_string())
            .collect()
    };
    let hostcalls = names(&report["hostcalls"])
        .into_iter()
        .filter(|name| !ABI_0_1_ONLY.contains(&name.as_str()));
    let wasi = names(&report["wasi"]["functions"])
        .into_iter()
        .filter(|name| !WASI_NOT_FUZZED.contains(&name.as_str()));
    hostcalls.chain(wasi).collect()
}

/// The fuzz really exercised the layer: most requests summarised, every linked hostcall called,
/// and each pointer-taking one both succeeded and was refused for a bad range.
fn assert_exercised(totals: &BTreeMap<String, BTreeMap<String, u64>>, summaries: u64) {
    assert!(
        summaries >= REQUESTS / 2,
        "only {summaries} of {REQUESTS} requests came back with a summary"
    );
    let linked = linked_hostcalls();
    assert!(
        linked.len() > 50,
        "reading crates/wasmesh-host/src/abi found only {linked:?}"
    );
    let missing: Vec<&String> = linked.iter().filter(|c| !totals.contains_key(*c)).collect();
    assert!(
        missing.is_empty(),
        "hostcalls the fuzz never called: {missing:?}"
    );
    for call in POINTER_CALLS_THAT_CAN_SUCCEED {
        let counts = totals
            .get(*call)
            .unwrap_or_else(|| panic!("{call} was never called"));
        let refused = ["InvalidMemoryAccess", "FAULT"]
            .iter()
            .any(|s| counts.contains_key(*s));
        assert!(
            counts.contains_key("Ok") && refused,
            "{call} should have both succeeded and refused a bad range: {counts:?}"
        );
    }
}

/// Hostcalls taking guest pointers that can succeed in a request callback on this host. Left
/// out: `proxy_get_status` (only during an HTTP-call response), `proxy_call_foreign_function`
/// (none registered), gRPC (unimplemented), `fd_read` and the fd calls that answer `BADF`
/// without reading memory, the other WASI stubs, `environ_get`/`args_get` (nothing to write).
const POINTER_CALLS_THAT_CAN_SUCCEED: &[&str] = &[
    "proxy_log",
    "proxy_get_log_level",
    "proxy_get_header_map_size",
    "proxy_get_header_map_pairs",
    "proxy_set_header_map_pairs",
    "proxy_get_header_map_value",
    "proxy_add_header_map_value",
    "proxy_replace_header_map_value",
    "proxy_remove_header_map_value",
    "proxy_get_buffer_status",
    "proxy_get_buffer_bytes",
    "proxy_get_property",
    "proxy_set_property",
    "proxy_send_local_response",
    "proxy_get_shared_data",
    "proxy_set_shared_data",
    "proxy_register_shared_queue",
    "proxy_resolve_shared_queue",
    "proxy_enqueue_shared_queue",
    "proxy_dequeue_shared_queue",
    "proxy_define_metric",
    "proxy_get_metric",
    "proxy_http_call",
    "proxy_get_current_time_nanoseconds",
    "fd_write",
    "environ_sizes_get",
    "args_sizes_get",
    "clock_time_get",
    "clock_res_get",
    "random_get",
];
