//! A misbehaving plugin (`tests/guests/misbehave`) next to a well-behaved one: the broken VM
//! costs the request that broke it (its plugin's `fail_open` outcome), is rebuilt for the next
//! one, and never stops another listener's filter.
//!
//! The guarantees are wasmesh's; `tests/tests/envoy_isolation.rs` runs the same cases in Envoy
//! and asserts what Envoy does instead (a loop hangs its worker for good, a failed VM stays
//! failed unless `FAIL_RELOAD`), which the README's table puts side by side.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::client::{Client, Response};
use crate::{
    build_filters, poll_until, Backend, BackendHandle, Cluster, Listener, MeshConfig, Plugin,
    Proxy, Route, Wasmesh,
};

mod flood;

pub use flood::{rss_kib, Flood};

/// The request header the misbehave guest reads.
pub const HEADER: &str = "x-misbehave";
/// Listener whose misbehave plugin fails open (`fail_open: true`).
pub const OPEN: &str = "open";
/// Listener whose misbehave plugin fails closed (`fail_open: false`).
pub const CLOSED: &str = "closed";
/// Listener with only the well-behaved `headers` filter.
pub const GOOD: &str = "good";
/// The header the `headers` filter adds on [`GOOD`].
const GOOD_HEADER: (&str, &str) = ("x-good", "yes");

/// A wasmesh with both misbehave plugins and the headers filter, plus its backend.
pub struct Isolation {
    /// The running host.
    pub proxy: Proxy,
    /// The upstream every listener routes to.
    pub backend: BackendHandle,
    client: Client,
}

/// `{"memory_mb":…, "callback_ms":…}` for the misbehave plugins (`None`: the host's default).
#[derive(Debug, Clone, Copy, Default)]
pub struct Limits {
    /// Linear-memory cap.
    pub memory_mb: Option<u64>,
    /// Time cap per callback.
    pub callback_ms: Option<u64>,
    /// CPU budget per stream.
    pub request_cpu_ms: Option<u64>,
}

impl Limits {
    fn to_json(self) -> Value {
        let mut out = json!({});
        if let Some(mb) = self.memory_mb {
            out["memory_mb"] = json!(mb);
        }
        if let Some(ms) = self.callback_ms {
            out["callback_ms"] = json!(ms);
        }
        if let Some(ms) = self.request_cpu_ms {
            out["request_cpu_ms"] = json!(ms);
        }
        out
    }
}

/// The two plugin names, by listener.
pub fn plugin_name(listener: &str) -> String {
    format!("misbehave-{listener}")
}

/// The setup every isolation test uses, as wasmesh JSON (one worker, so "the same VM" is
/// well defined).
pub fn config(backend: &BackendHandle, limits: Limits) -> Value {
    let filters = build_filters();
    let misbehave = |listener: &str, fail_open: bool| {
        Plugin::new(&plugin_name(listener), &filters.misbehave)
            .vm_id(&plugin_name(listener))
            .fail_open(fail_open)
    };
    let headers = Plugin::new("headers", &filters.headers)
        .configuration(json!({ "request": { "add": { GOOD_HEADER.0: GOOD_HEADER.1 } } }));
    let listener = |name: &str, filter: &str| {
        Listener::new(name)
            .filter(filter)
            .route(Route::prefix("/", "backend"))
    };
    let mut config = MeshConfig::new()
        .plugin(misbehave(OPEN, true))
        .plugin(misbehave(CLOSED, false))
        .plugin(headers)
        .cluster(Cluster::fixed("backend", [backend.addr]))
        .listener(listener(OPEN, &plugin_name(OPEN)))
        .listener(listener(CLOSED, &plugin_name(CLOSED)))
        .listener(listener(GOOD, "headers"))
        .to_wasmesh_json();
    // The rig's plugin builder has no limits; the schema has them per plugin.
    for plugin in config["plugins"].as_array_mut().expect("plugins is a list") {
        if plugin["name"]
            .as_str()
            .is_some_and(|n| n.starts_with("misbehave"))
        {
            plugin["limits"] = limits.to_json();
        }
    }
    config
}

impl Isolation {
    /// Starts the backend and wasmesh.
    pub fn start(limits: Limits) -> Self {
        let backend = Backend::start("b1");
        let proxy = Wasmesh::start(config(&backend, limits));
        Self {
            proxy,
            backend,
            client: Client::http1().with_timeout(Duration::from_secs(10)),
        }
    }

    /// `GET /<path>` on `listener`, with `x-misbehave: <case>` if given.
    pub fn get(&self, listener: &str, path: &str, case: Option<&str>) -> Response {
        let headers: Vec<(&str, &str)> = case.map(|c| (HEADER, c)).into_iter().collect();
        self.client_get(listener, path, &headers)
    }

    /// `GET path` through `listener` with `headers`.
    pub fn client_get(&self, listener: &str, path: &str, headers: &[(&str, &str)]) -> Response {
        self.client.get(&self.proxy.url(listener, path), headers)
    }

    /// A plain request through `listener` reaches the backend (the plugin is up and passes it).
    pub fn assert_serves(&self, listener: &str, when: &str) {
        let response = self.get(listener, "/plain", None);
        assert_eq!(
            response.status,
            200,
            "{listener} ({when}): a plain request should reach the backend: {}",
            response.text()
        );
        let echo = response.echo();
        assert_eq!(echo.path, "/plain", "{listener} ({when})");
        if listener == GOOD {
            assert_eq!(
                echo.header(GOOD_HEADER.0),
                Some(GOOD_HEADER.1),
                "{GOOD} ({when}): the headers filter should still add its header"
            );
        }
    }

    /// The `wasmesh_vm_failures_total` and `wasmesh_vm_rebuilds_total` counters now.
    pub fn vm_counters(&self) -> (u64, u64) {
        let text = self.proxy.admin_get("/metrics").text();
        (
            counter(&text, "wasmesh_vm_failures_total"),
            counter(&text, "wasmesh_vm_rebuilds_total"),
        )
    }

    /// Runs `f` while another thread keeps sending plain requests to [`GOOD`]; returns what `f`
    /// returned once every one of those requests was answered correctly (panics otherwise).
    pub fn while_good_listener_serves<T>(&self, f: impl FnOnce() -> T) -> T {
        let stop = AtomicBool::new(false);
        let url = self.proxy.url(GOOD, "/during");
        std::thread::scope(|scope| {
            let traffic = scope.spawn(|| {
                // Generous: in Envoy, whose one worker also runs the failing VM, a request waits
                // while a VM grows to 1 GiB, which took over 10 s on a loaded 2-core machine.
                let client = Client::http1().with_timeout(Duration::from_secs(30));
                let mut answered = 0u32;
                // At least one request, even if `f` is over before this thread starts.
                while answered == 0 || !stop.load(Ordering::Relaxed) {
                    let response = client
                        .send(http::Method::GET, &url, &[], bytes::Bytes::new())
                        .map_err(|e| format!("{GOOD} during the failure: {e}"))?;
                    let added = response.status == 200
                        && response.echo().header(GOOD_HEADER.0) == Some(GOOD_HEADER.1);
                    if !added {
                        return Err(format!(
                            "{GOOD} during the failure answered {}: {}",
                            response.status,
                            response.text()
                        ));
                    }
                    answered += 1;
                }
                Ok(answered)
            });
            let value = f();
            stop.store(true, Ordering::Relaxed);
            let answered = traffic
                .join()
                .expect("the traffic thread does not panic")
                .unwrap_or_else(|e| panic!("{e}"));
            eprintln!("{GOOD}: {answered} requests answered correctly during the failure");
            value
        })
    }
}

/// The value of an unlabelled counter in Prometheus text; panics if it is missing.
pub fn counter(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|line| {
            let rest = line.strip_prefix(name)?.strip_prefix(' ')?;
            rest.trim().parse::<f64>().ok()
        })
        .map(|v| v as u64)
        .unwrap_or_else(|| panic!("/metrics has no {name}:\n{text}"))
}

/// One misbehaviour that kills the VM (`trap`, `loop`, `memory`, `stack`): on [`OPEN`] the
/// request still reaches the backend, on [`CLOSED`] it gets the 503 naming the plugin; the
/// [`GOOD`] listener serves throughout; both VMs are rebuilt and serve the next request; the
/// failure and rebuild counters go up by (at least) one per VM. Returns how long each failing
/// request took (open, closed).
pub fn vm_failure(case: &str, limits: Limits) -> (Duration, Duration) {
    let mut iso = Isolation::start(limits);
    iso.proxy.expect_vm_failures();
    for listener in [OPEN, CLOSED, GOOD] {
        iso.assert_serves(listener, "before");
    }
    let (failures_before, rebuilds_before) = iso.vm_counters();

    let (open, closed) = iso.while_good_listener_serves(|| {
        let started = Instant::now();
        let open = iso.get(OPEN, "/bad", Some(case));
        let open_took = started.elapsed();
        let started = Instant::now();
        let closed = iso.get(CLOSED, "/bad", Some(case));
        let closed_took = started.elapsed();
        ((open, open_took), (closed, closed_took))
    });

    // (a) fail_open: true → the filter is skipped and the upstream answers.
    let (open, open_took) = open;
    assert_eq!(
        open.status,
        200,
        "{case} with fail_open: true should pass the request upstream: {}",
        open.text()
    );
    let echo = open.echo();
    assert_eq!(
        echo.path, "/bad",
        "{case}: the backend got the failing request"
    );
    assert_eq!(echo.header(HEADER), Some(case), "{case}: request unchanged");
    // (a) fail_open: false → 503 naming the plugin.
    let (closed, closed_took) = closed;
    let closed_name = plugin_name(CLOSED);
    assert_eq!(
        closed.status,
        503,
        "{case} with fail_open: false should get a 503: {}",
        closed.text()
    );
    assert!(
        closed
            .text()
            .contains(&format!("wasm plugin \"{closed_name}\" failed")),
        "{case}: the 503 should name the plugin {closed_name:?}: {}",
        closed.text()
    );

    // (b) the well-behaved filter after; (c) the broken VMs were rebuilt and serve again.
    for listener in [GOOD, OPEN, CLOSED] {
        iso.assert_serves(listener, "after");
    }
    let (failures, rebuilds) = poll_until(
        "the VM failure and rebuild counters to count both VMs",
        Duration::from_secs(5),
        || {
            let (failures, rebuilds) = iso.vm_counters();
            if failures >= failures_before + 2 && rebuilds >= rebuilds_before + 2 {
                Ok((failures, rebuilds))
            } else {
                Err(format!(
                    "failures {failures_before} -> {failures}, rebuilds {rebuilds_before} -> {rebuilds}"
                ))
            }
        },
    );
    // The rig's end-of-scenario check sees them: the log lines and the counter.
    let seen = iso.proxy.vm_failures();
    assert!(
        seen.iter()
            .filter(|line| line.contains("VM failed"))
            .count()
            >= 2
            && seen
                .iter()
                .any(|line| line.starts_with("wasmesh_vm_failures_total")),
        "{case}: the VM-health check saw {seen:#?}"
    );
    eprintln!(
        "{case}: fail-open request answered in {open_took:?}, fail-closed in {closed_took:?}; \
         wasmesh_vm_failures_total {failures_before} -> {failures}, \
         wasmesh_vm_rebuilds_total {rebuilds_before} -> {rebuilds}"
    );
    (open_took, closed_took)
}

/// The errno Envoy's host (proxy-wasm-cpp-host) answers to each WASI call of the guest's `wasi`
/// case, and so wasmesh's too: `NOSYS` (52) for reading and naming a pre-opened directory, `BADF`
/// (8) for descriptors other than stdout/stderr, `NOENT` (44) for opening a path, `NOTDIR` (20)
/// for listing one, `NOTSUP` (58) for the CPU-time clocks, renumbering and sockets; closing and
/// seeking "succeed"; `poll_oneoff` succeeds with zero events (Go's runtime needs that).
pub const WASI_ERRNOS: [(&str, u32); 19] = [
    ("fd_read_stdin", 52),
    ("fd_close", 0),
    ("fd_seek", 0),
    ("fd_fdstat_get", 8),
    ("fd_prestat_get", 8),
    ("fd_prestat_dir_name", 52),
    ("poll_oneoff", 0),
    ("sched_yield", 0),
    ("clock_res_get", 0),
    ("clock_res_get_cputime", 58),
    ("clock_time_get_cputime", 58),
    ("fd_fdstat_get_stdout", 0),
    ("fd_fdstat_set_flags", 52),
    ("fd_tell_stdout", 0),
    ("fd_renumber", 58),
    ("path_open", 44),
    ("fd_readdir", 20),
    ("sock_shutdown", 58),
    ("poll_oneoff_events", 0),
];

/// One misbehaviour the host answers with a status instead of a trap (`oob`, `huge-map`): the
/// guest's local reply reports the statuses it got, the VM is not torn down (no failure counted)
/// and both listeners keep serving. Returns the reported statuses.
pub fn status_case(case: &str) -> serde_json::Map<String, Value> {
    let iso = Isolation::start(Limits::default());
    for listener in [OPEN, CLOSED, GOOD] {
        iso.assert_serves(listener, "before");
    }
    let (failures_before, _) = iso.vm_counters();
    // Fail-closed: had the host killed the VM instead, this would be a 503.
    let response = iso.while_good_listener_serves(|| iso.get(CLOSED, "/bad", Some(case)));
    assert_eq!(
        response.status,
        200,
        "{case}: the guest should get error statuses and answer itself: {}",
        response.text()
    );
    let statuses = match response.json() {
        Value::Object(map) => map,
        other => panic!("{case}: the guest's reply is not a JSON object: {other}"),
    };
    eprintln!(
        "{case}: statuses the guest got: {}",
        Value::Object(statuses.clone())
    );
    for listener in [GOOD, CLOSED, OPEN] {
        iso.assert_serves(listener, "after");
    }
    let (failures, _) = iso.vm_counters();
    assert_eq!(
        failures, failures_before,
        "{case}: an error status is not a VM failure"
    );
    statuses
}

/// The `headers` plugin [`GOOD`] runs (named `headers`): it adds a header
/// [`Isolation::assert_serves`] checks for.
pub fn good_plugin() -> Plugin {
    Plugin::new("headers", &build_filters().headers)
        .configuration(json!({ "request": { "add": { GOOD_HEADER.0: GOOD_HEADER.1 } } }))
}

impl Isolation {
    /// The same rig around a host started elsewhere with a [`GOOD`] listener and misbehave
    /// listeners of its own (e.g. Envoy, with its failure policies); requests time out after
    /// `timeout`.
    pub fn around(proxy: Proxy, backend: BackendHandle, timeout: Duration) -> Self {
        Self {
            proxy,
            backend,
            client: Client::http1().with_timeout(timeout),
        }
    }
}
