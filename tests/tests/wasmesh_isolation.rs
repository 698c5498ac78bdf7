//! A misbehaving plugin costs one request, never the host: traps, endless loops, memory and
//! stack exhaustion, bad pointers and absurd header maps from `tests/guests/misbehave`, next to
//! a well-behaved `headers` filter on another listener. Also modules and configurations that
//! must be refused at load time.

use std::fs;
use std::time::Duration;

use serde_json::json;
use wasmesh_tests::scenarios::config::check;
use wasmesh_tests::scenarios::isolation::{self, Isolation, Limits};
use wasmesh_tests::{build_filters, Backend, MeshConfig, Plugin, Wasmesh};

/// The loop case's time cap, and the bound its reply must arrive within.
const LOOP_CALLBACK_MS: u64 = 50;
const LOOP_REPLY_BOUND: Duration = Duration::from_secs(2);

#[test]
fn trap() {
    isolation::vm_failure("trap", Limits::default());
}

#[test]
fn endless_loop_is_cut_by_the_time_cap() {
    let limits = Limits {
        callback_ms: Some(LOOP_CALLBACK_MS),
        ..Limits::default()
    };
    let (open, closed) = isolation::vm_failure("loop", limits);
    println!(
        "loop with callback_ms {LOOP_CALLBACK_MS}: fail-open reply after {open:?}, \
         fail-closed reply after {closed:?}"
    );
    for took in [open, closed] {
        assert!(
            took < LOOP_REPLY_BOUND,
            "an endless loop should be cut after ~{LOOP_CALLBACK_MS} ms; the reply took {took:?}"
        );
    }
}

#[test]
fn memory_exhaustion_hits_the_memory_cap() {
    isolation::vm_failure(
        "memory",
        Limits {
            memory_mb: Some(16),
            ..Limits::default()
        },
    );
}

#[test]
fn stack_exhaustion() {
    isolation::vm_failure("stack", Limits::default());
}

#[test]
fn out_of_bounds_pointers_get_invalid_memory_access() {
    let statuses = isolation::status_case("oob");
    for call in [
        "proxy_log",
        "proxy_get_header_map_value",
        "proxy_set_buffer_bytes",
    ] {
        assert_eq!(
            statuses.get(call),
            Some(&json!(6)),
            "{call} with a pointer outside memory should return InvalidMemoryAccess (6); got {statuses:?}"
        );
    }
}

#[test]
fn absurd_header_map_gets_bad_argument() {
    let statuses = isolation::status_case("huge-map");
    assert_eq!(
        statuses.get("proxy_set_header_map_pairs"),
        Some(&json!(2)),
        "a map claiming 1e9 pairs should get BadArgument (2); got {statuses:?}"
    );
}

#[test]
fn wasi_reaching_for_host_files_gets_envoys_stubs() {
    let statuses = isolation::status_case("wasi");
    for (call, errno) in isolation::WASI_ERRNOS {
        assert_eq!(
            statuses.get(call),
            Some(&json!(errno)),
            "{call}: Envoy answers errno {errno}; got {statuses:?}"
        );
    }
}

#[test]
fn proc_exit_ends_the_vm_not_the_host() {
    isolation::vm_failure("exit", Limits::default());
}

#[test]
fn check_refuses_a_file_that_is_not_wasm() {
    let backend = Backend::start("b1");
    let dir = std::env::temp_dir().join(format!("wasmesh-iso-notwasm-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let path = dir.join("not-a-module.wasm");
    fs::write(&path, "this is a text file, not a wasm module\n").unwrap();
    let config = MeshConfig::single(vec![Plugin::new("textfile", &path)], [backend.addr]);
    let outcome = check(&config.to_wasmesh_json());
    outcome.assert_rejected(&["not-a-module.wasm"]);
    let lower = outcome.output.to_lowercase();
    assert!(
        lower.contains("not a wasm") || lower.contains("magic"),
        "the message should say the file is not wasm:\n{}",
        outcome.output
    );
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn check_refuses_a_module_without_the_abi_marker() {
    let backend = Backend::start("b1");
    let dir = std::env::temp_dir().join(format!("wasmesh-iso-empty-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let path = dir.join("empty.wasm");
    // The smallest valid module: magic number and version, no sections (so no exports).
    fs::write(&path, b"\0asm\x01\0\0\0").unwrap();
    let config = MeshConfig::single(vec![Plugin::new("empty", &path)], [backend.addr]);
    let outcome = check(&config.to_wasmesh_json());
    outcome.assert_rejected(&["empty.wasm"]);
    assert!(
        outcome.output.to_lowercase().contains("abi"),
        "the message should say the ABI marker is missing:\n{}",
        outcome.output
    );
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn rejected_configuration_stops_startup_naming_the_plugin() {
    let filters = build_filters();
    let backend = Backend::start("b1");
    let plugin =
        Plugin::new("picky-plugin", &filters.misbehave).configuration(json!("fail-configure"));
    let config = MeshConfig::single(vec![plugin], [backend.addr]);
    check(&config.to_wasmesh_json()).assert_rejected(&["picky-plugin"]);
    match Wasmesh::try_start(config.to_wasmesh_json()) {
        Ok(proxy) => panic!(
            "wasmesh started although on_configure returned false:\n{}",
            proxy.logs()
        ),
        Err(logs) => assert!(
            logs.contains("picky-plugin"),
            "the start-up error should name the plugin:\n{logs}"
        ),
    }
    assert_eq!(backend.requests_seen(), 0);
}

#[test]
fn trap_in_on_vm_start_stops_startup_naming_the_plugin() {
    let filters = build_filters();
    let backend = Backend::start("b1");
    let plugin = Plugin::new("crashy-plugin", &filters.misbehave).vm_config(json!("trap-on-start"));
    let config = MeshConfig::single(vec![plugin], [backend.addr]);
    check(&config.to_wasmesh_json()).assert_rejected(&["crashy-plugin"]);
    match Wasmesh::try_start(config.to_wasmesh_json()) {
        Ok(proxy) => panic!(
            "wasmesh started although on_vm_start trapped:\n{}",
            proxy.logs()
        ),
        Err(logs) => assert!(
            logs.contains("crashy-plugin"),
            "the start-up error should name the plugin:\n{logs}"
        ),
    }
}

/// The floods' callback cap: generous, so the host's state caps, not the time cap, end them
/// (the debug host defines a metric in microseconds; two cores are shared with other tests).
const FLOOD_CALLBACK_MS: u64 = 5_000;
/// Slack on top of a cap for the host's RSS growth during a flood (allocator and map overhead).
const RSS_SLACK_KIB: u64 = 64 << 10;

/// A filter storing 64 KiB values under fresh keys is refused at the VM id's 64 MiB cap with
/// BadArgument: the VM lives on, its first key is still readable, another listener serves
/// throughout, the refusal is counted in `/stats/prometheus`, and the host grows by no more
/// than the cap plus slack.
#[test]
fn shared_data_flood_is_refused_at_the_cap() {
    const CAP_KIB: u64 = 64 << 10; // the host's MAX_BYTES_PER_VM
    let iso = Isolation::start(Limits {
        callback_ms: Some(FLOOD_CALLBACK_MS),
        ..Limits::default()
    });
    iso.assert_serves(isolation::CLOSED, "before");
    let (failures_before, _) = iso.vm_counters();
    let rss_before = isolation::rss_kib(&iso.proxy);
    // 2 000 × 64 KiB = 125 MiB asked for, twice the cap.
    let flood = iso.while_good_listener_serves(|| {
        iso.flood(isolation::CLOSED, "flood-shared-data", 0, 2_000, 64 << 10)
    });
    let rss_after = isolation::rss_kib(&iso.proxy);
    eprintln!("flood-shared-data: {flood:?}; wasmesh RSS {rss_before} KiB -> {rss_after} KiB");
    // 64 MiB / (64 KiB value + its ~20-byte key) = 1 023 keys fit.
    assert_eq!(flood.done, 1_023, "keys stored before the cap: {flood:?}");
    assert_eq!(
        flood.refused_status,
        Some(2),
        "refused with BadArgument: {flood:?}"
    );
    assert!(
        flood.first_there,
        "the first key is still readable: {flood:?}"
    );
    // Still capped for the next request (nothing was lost or freed), and the VM still answers.
    let again = iso.flood(isolation::CLOSED, "flood-shared-data", 5_000, 10, 64 << 10);
    assert_eq!(
        (again.done, again.refused_status),
        (0, Some(2)),
        "{again:?}"
    );
    assert!(again.first_there, "{again:?}");
    let text = iso.proxy.admin_get("/stats/prometheus").text();
    let refused = isolation::counter(
        &text,
        "wasmesh_guest_state_refused_total{kind=\"shared_data\"}",
    );
    assert_eq!(refused, 2, "one refusal per flood request");
    assert_eq!(
        iso.vm_counters().0,
        failures_before,
        "a refusal is not a VM failure"
    );
    assert!(
        rss_after < rss_before + CAP_KIB + RSS_SLACK_KIB,
        "RSS grew from {rss_before} KiB to {rss_after} KiB, more than the 64 MiB cap + 64 MiB"
    );
    for listener in [isolation::GOOD, isolation::OPEN, isolation::CLOSED] {
        iso.assert_serves(listener, "after the flood");
    }
}

/// A filter defining fresh metric names is refused at the host-wide 100 000 with BadArgument:
/// its earlier metrics still resolve, the refusal is counted, the host stays small and serves.
#[test]
fn metrics_flood_is_refused_at_the_cap() {
    const MAX_METRICS: u64 = 100_000; // the host's MAX_METRICS
    const BATCH: u64 = 20_000;
    let iso = Isolation::start(Limits {
        callback_ms: Some(FLOOD_CALLBACK_MS),
        ..Limits::default()
    });
    iso.assert_serves(isolation::CLOSED, "before");
    let rss_before = isolation::rss_kib(&iso.proxy);
    let (defined, last) = iso.while_good_listener_serves(|| {
        let mut defined = 0;
        loop {
            let flood = iso.flood(isolation::CLOSED, "flood-metrics", defined, BATCH, 0);
            defined += flood.done;
            if flood.refused_status.is_some() || defined > 2 * MAX_METRICS {
                return (defined, flood);
            }
        }
    });
    let rss_after = isolation::rss_kib(&iso.proxy);
    eprintln!(
        "flood-metrics: {defined} defined, last batch {last:?}; \
         wasmesh RSS {rss_before} KiB -> {rss_after} KiB"
    );
    assert_eq!(
        last.refused_status,
        Some(2),
        "refused with BadArgument: {last:?}"
    );
    // The host-wide cap also counts the few metrics other filters defined.
    assert!(
        (MAX_METRICS - 100..=MAX_METRICS).contains(&defined),
        "{defined} metrics defined before the cap"
    );
    assert!(
        last.first_there,
        "the first metric still resolves: {last:?}"
    );
    let text = iso.proxy.admin_get("/stats/prometheus").text();
    let refused = isolation::counter(&text, "wasmesh_guest_state_refused_total{kind=\"metrics\"}");
    assert_eq!(refused, 1);
    assert!(
        text.contains("misbehave_flood_0 0"),
        "the first flooded metric is still exposed"
    );
    assert!(
        rss_after < rss_before + RSS_SLACK_KIB,
        "RSS grew from {rss_before} KiB to {rss_after} KiB for 100 000 metrics, over 64 MiB"
    );
    for listener in [isolation::GOOD, isolation::OPEN, isolation::CLOSED] {
        iso.assert_serves(listener, "after the flood");
    }
}

/// `limits.request_cpu_ms` bounds the CPU a stream spends in one plugin over all its callbacks,
/// under the per-callback cap: a filter that burns 150 ms in each header callback (each well
/// under its `callback_ms` of 1 s) passes a 40 ms budget even on a busy machine and gets its plugin's `fail_open` outcome (the
/// filter skipped, or 503), counted in `wasmesh_request_cpu_exceeded_total{plugin}`; the VM
/// is not failed and serves the next request. A stream under the budget is untouched. No
/// open-source proxy-wasm host has such a budget (Envoy issue #14126).
#[test]
fn request_cpu_budget_cuts_a_stream_summed_over_its_callbacks() {
    let iso = Isolation::start(Limits {
        callback_ms: Some(1000),
        request_cpu_ms: Some(40),
        ..Limits::default()
    });
    let burn = |listener: &str, ms: &str| {
        iso.client_get(
            listener,
            "/burn",
            &[(isolation::HEADER, "burn"), ("x-misbehave-ms", ms)],
        )
    };
    for listener in [isolation::OPEN, isolation::CLOSED] {
        let under = burn(listener, "5");
        assert_eq!(
            under.status,
            200,
            "{listener}: under the budget: {}",
            under.text()
        );
    }
    let open = burn(isolation::OPEN, "150");
    assert_eq!(
        open.status,
        200,
        "fail_open: the filter is skipped: {}",
        open.text()
    );
    let closed = burn(isolation::CLOSED, "150");
    assert_eq!(closed.status, 503, "fail_open false: {}", closed.text());
    assert!(
        closed.text().contains(&format!(
            "wasm plugin \"{}\" failed",
            isolation::plugin_name(isolation::CLOSED)
        )),
        "{}",
        closed.text()
    );
    let metrics = iso.proxy.admin_get("/metrics").text();
    for listener in [isolation::OPEN, isolation::CLOSED] {
        let line = format!(
            "wasmesh_request_cpu_exceeded_total{{plugin=\"{}\"}} 1",
            isolation::plugin_name(listener)
        );
        assert!(metrics.contains(&line), "no `{line}` in:\n{metrics}");
    }
    assert_eq!(iso.vm_counters(), (0, 0), "a budget is not a VM failure");
    for listener in [isolation::OPEN, isolation::CLOSED] {
        iso.assert_serves(listener, "after");
    }
}
