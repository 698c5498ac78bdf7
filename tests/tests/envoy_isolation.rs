//! What Envoy 1.40 (V8) does with the misbehaving guest of `wasmesh_isolation.rs`: the reference
//! the README's "Misbehaving filter: wasmesh vs Envoy" table compares wasmesh with. Every
//! assertion is what Envoy was seen to do, not what a host should do.
//!
//! One Envoy per case, with four misbehave listeners, one per way Envoy lets a plugin fail
//! (`fail_open: true`, `fail_open: false`, `failure_policy: FAIL_OPEN`, `failure_policy:
//! FAIL_RELOAD`), next to the well-behaved `headers` filter on [`GOOD`]. After the failing
//! request, an unknown `x-misbehave` value shows whether the filter still runs (the guest answers
//! 400), is skipped (the backend answers) or refuses every request (Envoy's 503).

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::json;
use wasmesh_tests::client::Client;
use wasmesh_tests::scenarios::isolation::{
    self, plugin_name, rss_kib, Isolation, CLOSED, GOOD, HEADER, OPEN,
};
use wasmesh_tests::{
    build_filters, poll_until, wat, Backend, Cluster, Envoy, Listener, MeshConfig, Plugin, Proxy,
    Route,
};

/// Listener whose plugin has `failure_policy: FAIL_OPEN`.
const OPEN_POLICY: &str = "open-policy";
/// Listener whose plugin has `failure_policy: FAIL_RELOAD` (default backoff: 1 s base).
const RELOAD: &str = "reload";
/// An `x-misbehave` value the guest does not know: a live guest answers it with a 400.
const PROBE: &str = "probe";
/// Bound for an answer that does come (the memory case grows a VM to 1 GiB first).
const ANSWER_WITHIN: Duration = Duration::from_secs(10);
/// How long a request that hangs is given before the test calls it hung.
const HANG_FOR: Duration = Duration::from_secs(3);
/// Bound for FAIL_RELOAD to have rebuilt the VM (its backoff is jittered below 1 s here).
const RELOAD_WITHIN: Duration = Duration::from_secs(5);

/// How a misbehave plugin is told to fail, in Envoy's `PluginConfig`.
#[derive(Debug, Clone, Copy)]
enum Policy {
    /// The deprecated `fail_open` bool (what the rig renders for `Plugin::fail_open`).
    FailOpen(bool),
    /// `failure_policy`, which replaces it.
    FailurePolicy(&'static str),
}

/// The misbehave listeners and their plugin's failure setting.
const POLICIES: [(&str, Policy); 4] = [
    (OPEN, Policy::FailOpen(true)),
    (CLOSED, Policy::FailOpen(false)),
    (OPEN_POLICY, Policy::FailurePolicy("FAIL_OPEN")),
    (RELOAD, Policy::FailurePolicy("FAIL_RELOAD")),
];

/// What a listener's misbehave filter does with a request, seen from the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Filter {
    /// The guest ran and answered (400 to [`PROBE`]).
    Runs,
    /// The request reached the backend untouched: the filter is skipped.
    Skipped,
    /// Envoy answered 503 without running the filter.
    Refuses,
}

fn listener(name: &str, filter: &str) -> Listener {
    Listener::new(name)
        .filter(filter)
        .route(Route::prefix("/", "backend"))
}

/// Envoy with the four misbehave listeners and [`GOOD`], `workers` worker threads.
fn start(workers: u32) -> Isolation {
    let misbehave = &build_filters().misbehave;
    let backend = Backend::start("b1");
    let mut mesh = MeshConfig::new()
        .workers(workers)
        .cluster(Cluster::fixed("backend", [backend.addr]))
        .plugin(isolation::good_plugin())
        .listener(listener(GOOD, "headers"));
    for (name, policy) in POLICIES {
        let plugin = plugin_name(name);
        mesh = mesh
            .plugin(
                Plugin::new(&plugin, misbehave)
                    .vm_id(&plugin)
                    .fail_open(matches!(policy, Policy::FailOpen(true))),
            )
            .listener(listener(name, &plugin));
    }
    let mut yaml = mesh.to_envoy_yaml();
    for (name, policy) in POLICIES {
        if let Policy::FailurePolicy(value) = policy {
            yaml = with_failure_policy(&yaml, &plugin_name(name), value);
        }
    }
    let proxy = Envoy::try_start(yaml, workers).unwrap_or_else(|e| panic!("{e}"));
    Isolation::around(proxy, backend, ANSWER_WITHIN)
}

/// `yaml` with plugin `plugin`'s `fail_open: false` replaced by `failure_policy: <value>` (the
/// two may not be set together; the rig's plugin only knows `fail_open`).
fn with_failure_policy(yaml: &str, plugin: &str, value: &str) -> String {
    let lines: Vec<&str> = yaml.lines().collect();
    let name_line = format!("name: \"{plugin}\"");
    let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    let mut replaced = 0;
    for (i, line) in lines.iter().enumerate().skip(1) {
        if line.trim() == name_line && lines[i - 1].trim() == "fail_open: false" {
            let indent = &lines[i - 1][..lines[i - 1].len() - lines[i - 1].trim_start().len()];
            out[i - 1] = format!("{indent}failure_policy: \"{value}\"");
            replaced += 1;
        }
    }
    assert_eq!(replaced, 1, "plugin {plugin} not found once in:\n{yaml}");
    out.join("\n") + "\n"
}

/// Sends [`PROBE`] through `listener` and says what its misbehave filter did with it.
fn filter_state(iso: &Isolation, listener: &str) -> Filter {
    let response = iso.get(listener, "/probe", Some(PROBE));
    match response.status.as_u16() {
        400 if response.text().contains("unknown x-misbehave") => Filter::Runs,
        200 => {
            let echo = response.echo();
            assert_eq!(
                echo.header(HEADER),
                Some(PROBE),
                "{listener}: request unchanged"
            );
            Filter::Skipped
        }
        503 if response.body.is_empty() => Filter::Refuses,
        _ => panic!(
            "{listener}: unexpected answer to the probe: {} {}",
            response.status,
            response.text()
        ),
    }
}

/// One misbehaviour that kills the VM (V8 traps). Asserts, for every policy, the failing
/// request's answer and what the filter does afterwards; [`GOOD`] serves throughout and after.
/// Returns how much Envoy's memory grew over the four failing requests (KiB).
fn vm_failure(case: &str) -> u64 {
    let mut iso = start(1);
    iso.proxy.expect_vm_failures();
    for (name, _) in POLICIES {
        assert_eq!(filter_state(&iso, name), Filter::Runs, "{name} before");
    }
    let rss_before = rss_kib(&iso.proxy);
    let answers = iso.while_good_listener_serves(|| {
        POLICIES.map(|(name, _)| {
            let started = Instant::now();
            (name, iso.get(name, "/bad", Some(case)), started.elapsed())
        })
    });
    let grown = rss_kib(&iso.proxy).saturating_sub(rss_before);
    let failed_at = Instant::now();
    for (name, response, took) in &answers {
        eprintln!("{case} on {name}: {} after {took:?}", response.status);
        if *name == OPEN {
            // fail_open: true → the request that broke the VM goes upstream as it came.
            assert_eq!(
                response.status,
                200,
                "{case} on {name}: {}",
                response.text()
            );
            let echo = response.echo();
            assert_eq!(
                (echo.path.as_str(), echo.header(HEADER)),
                ("/bad", Some(case))
            );
        } else {
            // Every other policy, FAIL_OPEN included, answers that request 503, no body.
            assert_eq!(
                response.status,
                503,
                "{case} on {name}: {}",
                response.text()
            );
            assert!(
                response.body.is_empty(),
                "{case} on {name}: {}",
                response.text()
            );
        }
    }

    // FAIL_RELOAD: 503 while the backoff lasts, then a new VM runs the filter again.
    let reloaded = poll_until(
        "FAIL_RELOAD to rebuild the VM",
        RELOAD_WITHIN,
        || match filter_state(&iso, RELOAD) {
            Filter::Runs => Ok(failed_at.elapsed()),
            Filter::Refuses => Err("still 503".to_string()),
            Filter::Skipped => panic!("{RELOAD}: FAIL_RELOAD skipped the filter"),
        },
    );
    // The others never get a new VM, also after that backoff: skipped or refusing for good.
    for (name, expected) in [
        (OPEN, Filter::Skipped),
        (OPEN_POLICY, Filter::Skipped),
        (CLOSED, Filter::Refuses),
    ] {
        assert_eq!(filter_state(&iso, name), expected, "{case}: {name} after");
    }
    iso.assert_serves(GOOD, "after");
    assert_eq!(iso.proxy.admin_get("/ready").status, 200, "Envoy is up");
    // The rig's end-of-scenario check finds each of the four failures in Envoy's log.
    let seen = iso.proxy.vm_failures();
    assert!(
        seen.len() >= POLICIES.len(),
        "{case}: the VM-health check saw {} failures: {seen:#?}",
        seen.len()
    );
    eprintln!(
        "{case}: FAIL_RELOAD ran the filter again {reloaded:?} after the failures; \
         Envoy's memory grew by {} MiB over the four failing requests",
        grown / 1024
    );
    grown
}

#[test]
fn trap() {
    vm_failure("trap");
}

#[test]
fn memory_exhaustion_grows_each_vm_to_1_gib() {
    // Envoy has no per-VM memory setting (VmConfig has none); V8 is started with a fixed
    // `--wasm_max_mem_pages` of 1 GiB, so the guest's allocator fails there and it aborts.
    let per_vm = vm_failure("memory") / 4;
    assert!(
        (900 * 1024..1200 * 1024).contains(&per_vm),
        "each failing VM should have grown Envoy by about 1 GiB; grew {} MiB",
        per_vm / 1024
    );
}

#[test]
fn stack_exhaustion() {
    vm_failure("stack");
}

#[test]
fn proc_exit_traps_like_a_panic() {
    vm_failure("exit");
}

/// A case the host answers with statuses (the guest replies 200 with them as JSON, on
/// [`CLOSED`]): each call in `expected` got its status; every misbehave filter still runs after
/// it and [`GOOD`] serves.
fn status_case(case: &str, expected: &[(&str, u32)]) {
    let iso = start(1);
    let response = iso.while_good_listener_serves(|| iso.get(CLOSED, "/bad", Some(case)));
    assert_eq!(response.status, 200, "{case}: {}", response.text());
    let statuses = response.json();
    eprintln!("{case}: statuses the guest got from Envoy: {statuses}");
    for (call, status) in expected {
        assert_eq!(
            statuses.get(call),
            Some(&json!(status)),
            "{case}: {call}: {statuses}"
        );
    }
    for (name, _) in POLICIES {
        assert_eq!(
            filter_state(&iso, name),
            Filter::Runs,
            "{case}: {name} after"
        );
    }
    iso.assert_serves(GOOD, "after");
}

#[test]
fn out_of_bounds_pointers_get_invalid_memory_access() {
    let calls = [
        "proxy_log",
        "proxy_get_header_map_value",
        "proxy_set_buffer_bytes",
    ];
    status_case("oob", &calls.map(|call| (call, 6)));
}

#[test]
fn absurd_header_map_is_answered_ok() {
    // wasmesh answers BadArgument (2); Envoy says Ok.
    status_case("huge-map", &[("proxy_set_header_map_pairs", 0)]);
}

#[test]
fn wasi_reaching_for_host_files_gets_stubs() {
    status_case("wasi", &isolation::WASI_ERRNOS);
}

/// `server.worker_<n>.watchdog_mega_miss` for every worker, from Envoy's `/stats`.
fn mega_misses(proxy: &Proxy) -> Vec<u64> {
    let text = proxy
        .admin_get("/stats?filter=worker_.*watchdog_mega_miss")
        .text();
    text.lines()
        .filter(|l| l.starts_with("server.worker_"))
        .filter_map(|l| l.rsplit(": ").next()?.parse().ok())
        .collect()
}

/// Sends the loop request on [`OPEN`] from another thread and waits until Envoy's watchdog has
/// seen a worker stuck (mega miss: over 1 s); runs `while_stuck`, then checks the loop request
/// never got an answer.
fn while_a_worker_loops<T>(iso: &Isolation, while_stuck: impl FnOnce() -> T) -> T {
    let url = iso.proxy.url(OPEN, "/bad");
    std::thread::scope(|scope| {
        let looping = scope.spawn(|| {
            Client::http1_unpooled().with_timeout(HANG_FOR * 2).send(
                http::Method::GET,
                &url,
                &[(HEADER, "loop")],
                bytes::Bytes::new(),
            )
        });
        poll_until("the watchdog to see a stuck worker", HANG_FOR, || {
            let misses = mega_misses(&iso.proxy);
            if misses.iter().any(|&n| n > 0) {
                Ok(())
            } else {
                Err(format!("mega misses per worker: {misses:?}"))
            }
        });
        let value = while_stuck();
        match looping
            .join()
            .expect("the loop request thread does not panic")
        {
            Ok(response) => panic!("the looping filter was answered: {}", response.status),
            Err(e) => eprintln!("loop request on {OPEN} (fail_open: true): {e}"),
        }
        value
    })
}

/// `count` requests to [`GOOD`] at once, each on a new connection: how many were answered
/// correctly within [`HANG_FOR`] / 2, and how many got nothing.
fn good_requests(iso: &Isolation, count: usize) -> (usize, usize) {
    let url = iso.proxy.url(GOOD, "/during");
    let client = Client::http1_unpooled().with_timeout(HANG_FOR / 2);
    let results: Vec<_> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..count)
            .map(|_| scope.spawn(|| client.get_checked(&url)))
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    let answered = results
        .iter()
        .filter(|r| {
            r.as_ref()
                .is_ok_and(|r| r.status == 200 && r.echo().header("x-good") == Some("yes"))
        })
        .count();
    let hung = results
        .iter()
        .filter(|r| {
            r.as_ref()
                .is_err_and(|e| e.contains("no complete response"))
        })
        .count();
    (answered, hung)
}

#[test]
fn endless_loop_hangs_the_worker_and_envoy_ignores_sigterm() {
    let iso = start(1);
    iso.assert_serves(GOOD, "before");
    let (answered, hung) = while_a_worker_loops(&iso, || good_requests(&iso, 2));
    assert_eq!(
        (answered, hung),
        (0, 2),
        "with one worker, the other listener hangs too"
    );
    // The admin (main thread) still says LIVE: a health check on it would not notice.
    let ready = iso.proxy.admin_get("/ready");
    assert_eq!((ready.status.as_u16(), ready.text().trim()), (200, "LIVE"));
    // SIGTERM does not end it: shutting down waits for the stuck worker. Only SIGKILL does
    // (the test's drop).
    let pid = iso.proxy.pid().to_string();
    let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(status.success(), "kill -TERM {pid}");
    poll_until("Envoy to log the SIGTERM", HANG_FOR, || {
        if iso.proxy.logs().contains("caught ENVOY_SIGTERM") {
            Ok(())
        } else {
            Err("not yet".into())
        }
    });
    std::thread::sleep(HANG_FOR / 2);
    let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let state = state.rsplit(") ").next().and_then(|s| s.chars().next());
    assert!(
        matches!(state, Some(s) if s != 'Z'),
        "Envoy exited after SIGTERM (state {state:?})"
    );
}

#[test]
fn endless_loop_with_two_workers_hangs_the_connections_of_one() {
    let iso = start(2);
    iso.assert_serves(GOOD, "before");
    let (answered, hung) = while_a_worker_loops(&iso, || good_requests(&iso, 16));
    eprintln!("two workers, one looping: {answered} of 16 new connections answered, {hung} hung");
    assert!(
        answered > 0 && hung > 0 && answered + hung == 16,
        "new connections land on either worker: some answered, the rest hang \
         ({answered} answered, {hung} hung)"
    );
}

#[test]
fn invalid_return_value_leaves_the_request_hanging() {
    // `proxy_on_request_headers` answers 42: Envoy neither fails the VM nor answers; the
    // request waits (no route timeout applies before the router).
    let backend = Backend::start("b1");
    let bad = wat::module("bad-return");
    let config = MeshConfig::new()
        .plugin(Plugin::new("bad-open", &bad).fail_open(true))
        .plugin(Plugin::new("bad-closed", &bad))
        .plugin(isolation::good_plugin())
        .cluster(Cluster::fixed("backend", [backend.addr]))
        .listener(listener(OPEN, "bad-open"))
        .listener(listener(CLOSED, "bad-closed"))
        .listener(listener(GOOD, "headers"));
    let proxy = Envoy::try_start(config.to_envoy_yaml(), 1).unwrap_or_else(|e| panic!("{e}"));
    let iso = Isolation::around(proxy, backend, HANG_FOR);
    std::thread::scope(|scope| {
        let waiting = [OPEN, CLOSED].map(|name| {
            let client = Client::http1_unpooled().with_timeout(HANG_FOR);
            let url = iso.proxy.url(name, "/x");
            scope.spawn(move || (name, client.get_checked(&url)))
        });
        iso.assert_serves(GOOD, "while the others wait");
        for thread in waiting {
            let (name, result) = thread.join().unwrap();
            match result {
                Ok(response) => panic!("{name}: answered {}", response.status),
                Err(e) => assert!(e.contains("no complete response"), "{name}: {e}"),
            }
        }
    });
    assert_eq!(
        iso.backend.requests_seen(),
        1,
        "only the good request went upstream"
    );
    assert!(!iso.proxy.logs().contains("proxy_on_request_headers failed"));
}

#[test]
fn modules_that_cannot_start_stop_startup_even_with_fail_open() {
    let misbehave = &build_filters().misbehave;
    let dir = std::env::temp_dir().join(format!("envoy-iso-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = dir.join("not-a-module.wasm");
    std::fs::write(&text, "this is a text file, not a wasm module\n").unwrap();
    let empty = dir.join("empty.wasm");
    std::fs::write(&empty, b"\0asm\x01\0\0\0").unwrap();
    let cases = [
        (
            Plugin::new("broken", &text),
            "Failed to parse corrupted Wasm module",
        ),
        (
            Plugin::new("broken", &empty),
            "Missing or unknown Proxy-Wasm ABI version",
        ),
        (
            Plugin::new("broken", &wat::module("no-allocator")),
            "Wasm module is missing malloc function",
        ),
        (
            Plugin::new("broken", &wat::module("wrong-signature")),
            "Bad function signature for: proxy_on_request_headers",
        ),
        (
            Plugin::new("broken", misbehave).vm_config(json!("trap-on-start")),
            "trap-on-start asked for a trap in on_vm_start",
        ),
    ];
    let backend_addr = "127.0.0.1:9".parse().expect("an address");
    for (plugin, reason) in cases {
        let config = MeshConfig::single(vec![plugin.fail_open(true)], [backend_addr]);
        match Envoy::try_start(config.to_envoy_yaml(), 1) {
            Ok(proxy) => panic!("Envoy started ({reason}):\n{}", proxy.logs()),
            Err(logs) => {
                assert!(
                    logs.contains(reason),
                    "the log should say {reason:?}:\n{logs}"
                );
                assert!(
                    logs.contains("Unable to create Wasm plugin broken"),
                    "the error names the plugin:\n{logs}"
                );
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_module_without_exported_memory_loads_and_serves() {
    // wasmesh refuses it at load; Envoy only needs the memory once a hostcall uses it.
    let backend = Backend::start("b1");
    let plugin = Plugin::new("no-memory", &wat::module("no-memory"));
    let config = MeshConfig::single(vec![plugin], [backend.addr]);
    let proxy = Envoy::try_start(config.to_envoy_yaml(), 1).unwrap_or_else(|e| panic!("{e}"));
    let response = wasmesh_tests::client::get(&proxy.url("main", "/x"), &[]);
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.echo().backend, "b1");
}

/// A bounded shared-data flood (2 000 fresh keys of 64 KiB, twice wasmesh's 64 MiB per-VM-id
/// cap): Envoy stores every one and grows by about that much; nothing is refused, the filter
/// and [`GOOD`] keep serving.
#[test]
fn shared_data_flood_is_stored_without_a_cap() {
    const KEYS: u64 = 2_000;
    const VALUE_BYTES: usize = 64 << 10;
    let iso = start(1);
    let rss_before = rss_kib(&iso.proxy);
    let flood = iso.while_good_listener_serves(|| {
        iso.flood(CLOSED, "flood-shared-data", 0, KEYS, VALUE_BYTES)
    });
    let rss_after = rss_kib(&iso.proxy);
    eprintln!("flood-shared-data: {flood:?}; Envoy RSS {rss_before} KiB -> {rss_after} KiB");
    assert_eq!(flood.done, KEYS, "Envoy stores every key: {flood:?}");
    assert_eq!(flood.refused_status, None, "{flood:?}");
    assert!(flood.first_there, "{flood:?}");
    let stored_kib = KEYS * VALUE_BYTES as u64 / 1024;
    assert!(
        rss_after >= rss_before + stored_kib / 2,
        "Envoy keeps the values: RSS {rss_before} KiB -> {rss_after} KiB for {stored_kib} KiB"
    );
    assert_eq!(filter_state(&iso, CLOSED), Filter::Runs, "after the flood");
    iso.assert_serves(GOOD, "after the flood");
}

/// A bounded metrics flood (20 000 fresh counter names): Envoy defines every one and exposes
/// them; nothing is refused.
#[test]
fn metrics_flood_is_defined_without_a_cap() {
    const METRICS: u64 = 20_000;
    let iso = start(1);
    let rss_before = rss_kib(&iso.proxy);
    let flood =
        iso.while_good_listener_serves(|| iso.flood(CLOSED, "flood-metrics", 0, METRICS, 0));
    let rss_after = rss_kib(&iso.proxy);
    eprintln!("flood-metrics: {flood:?}; Envoy RSS {rss_before} KiB -> {rss_after} KiB");
    assert_eq!(flood.done, METRICS, "Envoy defines every metric: {flood:?}");
    assert_eq!(flood.refused_status, None, "{flood:?}");
    assert!(flood.first_there, "{flood:?}");
    let text = iso.proxy.admin_get("/stats/prometheus").text();
    let last = format!("misbehave_flood_{}", METRICS - 1);
    assert!(text.contains(&last), "Envoy exposes {last}");
    assert_eq!(filter_state(&iso, CLOSED), Filter::Runs, "after the flood");
    iso.assert_serves(GOOD, "after the flood");
}
