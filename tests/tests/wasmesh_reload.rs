//! Changing a running wasmesh (issue 7): filters swapped under steady load with zero failed
//! requests, the config file and the modules it names watched, listeners added, moved and
//! removed by a reload (removed ones drain), and a reload that cannot bind a port changing
//! nothing.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use wasmesh_tests::client;
use wasmesh_tests::scenarios::config::{headers_config, served_generation};
use wasmesh_tests::scenarios::reload::{
    bound_listeners, copy_module, replace_file, rewrite_config, start_load, swap_outcomes, version,
    SwapModules,
};
use wasmesh_tests::{build_filters, poll_until, Backend, Proxy, Wasmesh};
use wasmesh_tests::{Cluster, Listener, MeshConfig, Plugin, Route};

/// Swaps in one run, alternating two modules and two configurations of each.
const SWAPS: usize = 10;
/// Time each version serves before the next swap.
const SWAP_EVERY: Duration = Duration::from_millis(1500);
/// Connections of the steady load.
const CONNECTIONS: usize = 64;

#[test]
fn swaps_under_load_fail_nothing_and_switch_within_a_second() {
    let upstreams = [Backend::start("b1"), Backend::start("b2")];
    let addrs = [upstreams[0].addr, upstreams[1].addr];
    let dir = wasmesh_tests::target_dir()
        .join("e2e")
        .join(format!("swap-modules-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("creating the module directory");
    let modules = SwapModules::copy_into(&dir);
    let first = version(0, &modules, addrs);
    let proxy = Wasmesh::start(first.config.clone());
    let load = start_load(&proxy, CONNECTIONS);
    std::thread::sleep(SWAP_EVERY);
    let mut swaps = vec![(Instant::now(), first.marker.clone())];
    for i in 1..=SWAPS {
        let next = version(i, &modules, addrs);
        let at = Instant::now();
        rewrite_config(&proxy, &next.config);
        swaps.push((at, next.marker));
        std::thread::sleep(SWAP_EVERY);
    }
    let end = Instant::now();
    let report = load.stop();
    assert!(
        report.failures.is_empty(),
        "{} failed requests during the swaps, e.g. {:?}",
        report.failures.len(),
        &report.failures[..report.failures.len().min(5)]
    );
    let outcomes = swap_outcomes(&report, &swaps[1..], end, Duration::from_secs(1));
    for outcome in &outcomes {
        assert!(
            outcome.served > 0,
            "no response of {} after its swap",
            outcome.marker
        );
    }
    let slowest = outcomes.iter().map(|o| o.switch).max().unwrap_or_default();
    eprintln!(
        "{} responses, 0 failed, {SWAPS} swaps; slowest switch {slowest:?}; per swap: {:?}",
        report.ok.len(),
        outcomes
            .iter()
            .map(|o| format!("{}:{:?}", o.marker, o.switch))
            .collect::<Vec<_>>()
    );
    let config: Value = proxy.admin_get("/config").json();
    assert_eq!(config["generation"], (SWAPS + 1) as u64, "{config}");
}

fn generation(proxy: &Proxy) -> u64 {
    proxy.admin_get("/config").json()["generation"]
        .as_u64()
        .expect("/config has a numeric generation")
}

#[test]
fn replacing_a_watched_module_reloads_it() {
    let backend = Backend::start("b1");
    let mut config = headers_config(backend.addr, 1);
    let proxy = Wasmesh::start(config.clone());
    let module = copy_module(&build_filters().headers, proxy.run_dir(), "watched.wasm");
    config["plugins"][0]["wasm"] = module.display().to_string().into();
    rewrite_config(&proxy, &config);
    poll_until(
        "the config naming watched.wasm",
        Duration::from_secs(5),
        || match generation(&proxy) {
            2 => Ok(()),
            other => Err(format!("generation {other}")),
        },
    );

    // A module that is not wasm: the reload fails, the old generation keeps serving.
    replace_file(&module, b"not a wasm module");
    poll_until("the broken module refused", Duration::from_secs(5), || {
        let config: Value = proxy.admin_get("/config").json();
        match config["last_reload_error"].as_str() {
            Some(error) if error.contains("watched.wasm") => Ok(()),
            other => Err(format!("last_reload_error {other:?}")),
        }
    });
    assert_eq!(generation(&proxy), 2);
    let url = proxy.url("main", "/watched");
    assert_eq!(served_generation(&url).as_deref(), Ok("1"));

    // The good module back: reloaded again, no error left.
    replace_file(&module, &std::fs::read(&build_filters().headers).unwrap());
    poll_until(
        "the module reloaded",
        Duration::from_secs(5),
        || match generation(&proxy) {
            3 => Ok(()),
            other => Err(format!("generation {other}")),
        },
    );
    let config: Value = proxy.admin_get("/config").json();
    assert!(config["last_reload_error"].is_null(), "{config}");
}

fn refuses_connections(addr: SocketAddr) -> Result<(), String> {
    match TcpStream::connect_timeout(&addr, Duration::from_millis(500)) {
        Ok(_) => Err(format!("{addr} still accepts connections")),
        Err(_) => Ok(()),
    }
}

fn listener_addr(proxy: &Proxy, name: &str) -> Option<SocketAddr> {
    bound_listeners(proxy)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, addr)| addr)
}

/// A copy of `config`'s first listener under another name and address.
fn renamed_listener(config: &Value, name: &str, address: &str) -> Value {
    let mut listener = config["listeners"][0].clone();
    listener["name"] = name.into();
    listener["address"] = address.into();
    listener
}

fn free_port() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
}

#[test]
fn reload_adds_moves_and_removes_listeners_and_drains_the_removed() {
    let backend = Backend::start("b1");
    let base = headers_config(backend.addr, 1);
    let proxy = Wasmesh::start(base.clone());
    let main = proxy.listener("main");

    // Added: `second` serves once the reload is through.
    let mut with_second = base.clone();
    let second = renamed_listener(&base, "second", "127.0.0.1:0");
    with_second["listeners"]
        .as_array_mut()
        .unwrap()
        .push(second);
    rewrite_config(&proxy, &with_second);
    let second_addr = poll_until("listener second bound", Duration::from_secs(5), || {
        listener_addr(&proxy, "second").ok_or_else(|| "not yet".to_string())
    });
    let second_url = format!("http://{second_addr}/second");
    assert_eq!(served_generation(&second_url).as_deref(), Ok("1"));

    // Removed while a slow request is in flight on it: that request completes, then `main`
    // refuses new connections, and `second` keeps serving.
    let slow_url = proxy.url("main", "/delay?ms=1500");
    let slow = std::thread::spawn(move || client::get(&slow_url, &[]));
    std::thread::sleep(Duration::from_millis(300));
    let mut only_second = with_second.clone();
    only_second["listeners"].as_array_mut().unwrap().remove(0);
    rewrite_config(&proxy, &only_second);
    poll_until(
        "main no longer listed",
        Duration::from_secs(5),
        || match listener_addr(&proxy, "main") {
            None => Ok(()),
            Some(addr) => Err(format!("main still on {addr}")),
        },
    );
    let response = slow.join().expect("the slow request's thread");
    assert_eq!(
        response.status, 200,
        "in-flight request on a removed listener"
    );
    poll_until("main refuses connections", Duration::from_secs(5), || {
        refuses_connections(main)
    });
    assert_eq!(served_generation(&second_url).as_deref(), Ok("1"));

    // Moved: `second` to an explicit port; the old address stops, the new one serves.
    let target = free_port();
    let mut moved = only_second.clone();
    moved["listeners"][0]["address"] = target.to_string().into();
    rewrite_config(&proxy, &moved);
    poll_until(
        "second serving on its new port",
        Duration::from_secs(5),
        || served_generation(&format!("http://{target}/moved")).map(|_| ()),
    );
    poll_until("second's old port refuses", Duration::from_secs(5), || {
        refuses_connections(second_addr)
    });
}

#[test]
fn a_port_in_use_rejects_the_reload_and_changes_nothing() {
    let backend = Backend::start("b1");
    let base = headers_config(backend.addr, 1);
    let proxy = Wasmesh::start(base.clone());
    let taken = TcpListener::bind("127.0.0.1:0").expect("a port to hold");
    let taken_addr = taken.local_addr().unwrap();
    let mut clash = headers_config(backend.addr, 2);
    let listener = renamed_listener(&base, "clash", &taken_addr.to_string());
    clash["listeners"].as_array_mut().unwrap().push(listener);
    rewrite_config(&proxy, &clash);
    // The watcher's reload fails too; POST /reload shows the error to the caller.
    let reply = client::post(&format!("http://{}/reload", proxy.admin), &[], "");
    assert_eq!(reply.status, 400, "{}", reply.text());
    let error = reply.text();
    assert!(
        error.contains("\\\"clash\\\"") && error.contains(&taken_addr.to_string()),
        "the error names the listener and its address: {error}"
    );
    assert_eq!(
        served_generation(&proxy.url("main", "/still")).as_deref(),
        Ok("1")
    );
    assert!(listener_addr(&proxy, "clash").is_none());
    drop(taken);
}

/// A `ratelimit` setup whose bucket lives in shared data under `vm_id`.
fn ratelimit_config(backend: SocketAddr, wasm: &std::path::Path, vm_id: &str) -> Value {
    let plugin = Plugin::new("ratelimit", wasm)
        .vm_id(vm_id)
        .configuration(json!({
            "tokens_per_second": 0.001, "burst": 3, "key": "header:x-client"
        }));
    MeshConfig::single(vec![plugin], [backend]).to_wasmesh_json()
}

fn limited_status(proxy: &Proxy) -> u16 {
    client::get(&proxy.url("main", "/limited"), &[("x-client", "c1")])
        .status
        .as_u16()
}

#[test]
fn shared_data_survives_a_swap_of_the_module_that_owns_it() {
    let backend = Backend::start("b1");
    let module = &build_filters().ratelimit;
    let proxy = Wasmesh::start(ratelimit_config(backend.addr, module, "limits"));
    let statuses: Vec<u16> = (0..4).map(|_| limited_status(&proxy)).collect();
    assert_eq!(statuses, [200, 200, 200, 429], "burst 3, then limited");

    // The module swapped (another file, a new generation), same vm_id: the bucket is still empty.
    let copy = copy_module(module, proxy.run_dir(), "ratelimit-v2.wasm");
    rewrite_config(&proxy, &ratelimit_config(backend.addr, &copy, "limits"));
    poll_until(
        "generation 2",
        Duration::from_secs(5),
        || match generation(&proxy) {
            2 => Ok(()),
            other => Err(format!("generation {other}")),
        },
    );
    assert_eq!(limited_status(&proxy), 429, "the bucket survived the swap");

    // Another vm_id is another shared-data namespace: a fresh bucket.
    rewrite_config(&proxy, &ratelimit_config(backend.addr, &copy, "other"));
    poll_until(
        "generation 3",
        Duration::from_secs(5),
        || match generation(&proxy) {
            3 => Ok(()),
            other => Err(format!("generation {other}")),
        },
    );
    assert_eq!(limited_status(&proxy), 200, "a new vm_id starts empty");
}

/// Two workers, the abi-test guest with `vm_config` `tag` in front of `backend`.
fn abi_config(backend: SocketAddr, tag: &str) -> Value {
    MeshConfig::new()
        .workers(2)
        .plugin(Plugin::new("abi", &build_filters().abi_test).vm_config(json!(tag)))
        .cluster(Cluster::fixed("backend", [backend]))
        .listener(
            Listener::new("main")
                .filter("abi")
                .route(Route::prefix("/", "backend")),
        )
        .to_wasmesh_json()
}

#[test]
fn a_reload_retires_the_old_vms_through_on_done() {
    let backend = Backend::start("b1");
    let config = |tag: &str| abi_config(backend.addr, tag);
    let proxy = Wasmesh::start(config("first"));
    assert_eq!(client::get(&proxy.url("main", "/"), &[]).status, 200);
    assert_eq!(proxy.logs().matches("abi-test: root on_done").count(), 0);
    rewrite_config(&proxy, &config("second"));
    // Each worker builds the new generation on its next event; the old VMs go once unused.
    poll_until(
        "both workers' old root contexts to get on_done",
        Duration::from_secs(10),
        || {
            let _ = client::shared().get_checked(&proxy.url("main", "/"));
            match proxy.logs().matches("abi-test: root on_done").count() {
                n if n >= 2 => Ok(()),
                n => Err(format!("{n} root on_done lines so far")),
            }
        },
    );
    assert_eq!(generation(&proxy), 2);
    assert_eq!(client::get(&proxy.url("main", "/"), &[]).status, 200);
}

/// A reload that leaves a plugin as it was (module, configurations, limits, clusters) keeps its
/// VMs on every worker: no `on_vm_start`, no `on_done`, the same memory; one that changes it
/// starts new ones (as Envoy keeps a VM whose module and configuration did not change).
#[test]
fn an_unchanged_plugin_keeps_its_vms_across_a_reload() {
    let backend = Backend::start("b1");
    let config = |tag: &str| abi_config(backend.addr, tag);
    let starts = |proxy: &Proxy| proxy.logs().matches("abi-test: on_vm_start").count();
    let proxy = Wasmesh::start(config("first"));
    assert_eq!(client::get(&proxy.url("main", "/"), &[]).status, 200);
    // The generation's trial instance, then one VM per worker.
    assert_eq!(starts(&proxy), 3, "{}", proxy.logs());
    let mut listener_only = config("first");
    listener_only["listeners"][0]["idle_timeout_ms"] = json!(30_000);
    rewrite_config(&proxy, &listener_only);
    poll_until("generation 2", Duration::from_secs(10), || {
        let _ = client::shared().get_checked(&proxy.url("main", "/"));
        match generation(&proxy) {
            2 => Ok(()),
            n => Err(format!("generation {n}")),
        }
    });
    for _ in 0..4 {
        assert_eq!(client::get(&proxy.url("main", "/"), &[]).status, 200);
    }
    assert_eq!(starts(&proxy), 3, "no VM started: {}", proxy.logs());
    assert_eq!(proxy.logs().matches("abi-test: root on_done").count(), 0);
    rewrite_config(&proxy, &config("second"));
    poll_until(
        "new VMs for the changed plugin",
        Duration::from_secs(10),
        || {
            let _ = client::shared().get_checked(&proxy.url("main", "/"));
            match starts(&proxy) {
                n if n >= 6 => Ok(()),
                n => Err(format!("{n} on_vm_start lines")),
            }
        },
    );
}

/// The local ports of the proxy's open connections to `backend` (the kernel's table).
fn connections_to(backend: SocketAddr) -> Vec<u16> {
    let table = std::fs::read_to_string("/proc/net/tcp").expect("/proc/net/tcp");
    let port = format!(":{:04X}", backend.port());
    let mut ports: Vec<u16> = table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (local, remote, state) = (fields.get(1)?, fields.get(2)?, fields.get(3)?);
            let local_port = local.rsplit(':').next()?;
            (remote.ends_with(&port) && *state == "01")
                .then(|| u16::from_str_radix(local_port, 16).ok())?
        })
        .collect();
    ports.sort_unstable();
    ports
}

/// A reload that leaves a cluster as it was keeps its pool: the next request goes on the same
/// upstream connection; one that changes the cluster gets a new pool.
#[test]
fn a_reload_keeps_the_pools_of_unchanged_clusters() {
    let backend = Backend::start("b1");
    let mesh = MeshConfig::new()
        .workers(1)
        .cluster(Cluster::fixed("backend", [backend.addr]))
        .listener(Listener::new("main").route(Route::prefix("/", "backend")));
    let proxy = Wasmesh::start(mesh.to_wasmesh_json());
    assert_eq!(client::get(&proxy.url("main", "/"), &[]).status, 200);
    let before = connections_to(backend.addr);
    assert_eq!(before.len(), 1, "one pooled connection: {before:?}");
    let reload_to = |config: &Value, want: u64| {
        rewrite_config(&proxy, config);
        poll_until("the reload", Duration::from_secs(10), || {
            match generation(&proxy) {
                n if n == want => Ok(()),
                n => Err(format!("generation {n}")),
            }
        });
        // The worker builds the generation on its next event; a request gives it one.
        for _ in 0..3 {
            assert_eq!(client::get(&proxy.url("main", "/"), &[]).status, 200);
        }
    };
    let mut listener_only = mesh.to_wasmesh_json();
    listener_only["listeners"][0]["idle_timeout_ms"] = json!(30_000);
    reload_to(&listener_only, 2);
    assert_eq!(connections_to(backend.addr), before, "the same connection");
    let mut cluster_changed = listener_only.clone();
    cluster_changed["clusters"][0]["connect_timeout_ms"] = json!(2_000);
    reload_to(&cluster_changed, 3);
    let after = poll_until("the old pool to close", Duration::from_secs(10), || {
        let now = connections_to(backend.addr);
        (now.len() == 1 && now != before)
            .then_some(now.clone())
            .ok_or(format!("connections {now:?}, before {before:?}"))
    });
    assert_ne!(after, before);
}

#[test]
fn a_failing_config_under_load_changes_nothing() {
    let upstreams = [Backend::start("b1"), Backend::start("b2")];
    let addrs = [upstreams[0].addr, upstreams[1].addr];
    let dir = wasmesh_tests::target_dir()
        .join("e2e")
        .join(format!("bad-swap-modules-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("creating the module directory");
    let modules = SwapModules::copy_into(&dir);
    let serving = version(0, &modules, addrs);
    let proxy = Wasmesh::start(serving.config.clone());
    let load = start_load(&proxy, CONNECTIONS);
    std::thread::sleep(Duration::from_millis(500));
    // The next version, but with a typo in a route: refused as a whole.
    let mut bad = version(1, &modules, addrs).config;
    bad["listeners"][0]["routes"][0]["clustr"] = "dynamic".into();
    let written = Instant::now();
    rewrite_config(&proxy, &bad);
    let error = poll_until(
        "the reload error at /config",
        Duration::from_secs(5),
        || {
            let config: Value = proxy.admin_get("/config").json();
            match config["last_reload_error"].as_str() {
                Some(error) => Ok((error.to_string(), config["generation"].clone())),
                None => Err(format!("no error yet: {config}")),
            }
        },
    );
    std::thread::sleep(Duration::from_millis(1500));
    let report = load.stop();
    assert!(
        report.failures.is_empty(),
        "{} failed requests, e.g. {:?}",
        report.failures.len(),
        &report.failures[..report.failures.len().min(5)]
    );
    assert!(
        error.0.contains("clustr"),
        "the error names the field: {}",
        error.0
    );
    assert_eq!(error.1, 1, "the generation stays");
    let after: Vec<_> = report.ok.iter().filter(|s| s.at > written).collect();
    assert!(!after.is_empty(), "responses after the bad write");
    assert!(
        after
            .iter()
            .all(|s| s.marker.as_deref() == Some(serving.marker.as_str())),
        "every response after the bad write still comes from {}",
        serving.marker
    );
    eprintln!(
        "{} responses, 0 failed; {} after the refused write, all from {}",
        report.ok.len(),
        after.len(),
        serving.marker
    );
}

/// A configuration with `discovery` publishing the static endpoint set `[endpoint]` of service
/// `web`, and `extra` plugins beside it.
fn discovery_config(backend: SocketAddr, endpoint: &str, extra: Vec<Plugin>) -> Value {
    let discovery = Plugin::new("discovery", &build_filters().discovery)
        .vm_id("mesh")
        .configuration(json!({
            "services": [{ "service": "web", "source": { "static": { "endpoints": [{ "address": endpoint }] } } }]
        }));
    let mut config = MeshConfig::new()
        .plugin(discovery)
        .cluster(Cluster::fixed("backend", [backend]))
        .listener(Listener::new("main").route(Route::prefix("/", "backend")));
    for plugin in extra {
        config = config.plugin(plugin);
    }
    config.to_wasmesh_json()
}

/// The addresses `/endpoints` shows for service `web`.
fn web_endpoints(proxy: &Proxy) -> Vec<String> {
    let view: Value = proxy.admin_get("/endpoints").json();
    view["services"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s["service"] == "web")
        .flat_map(|s| s["endpoints"].as_array().cloned().unwrap_or_default())
        .filter_map(|e| e["address"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn a_rejected_reload_leaves_no_trace_in_live_state() {
    let backend = Backend::start("b1");
    let proxy = Wasmesh::start(discovery_config(backend.addr, "10.0.0.1:8080", vec![]));
    poll_until("the first endpoint set", Duration::from_secs(5), || {
        let endpoints = web_endpoints(&proxy);
        (endpoints == ["10.0.0.1:8080"])
            .then_some(())
            .ok_or_else(|| format!("{endpoints:?}"))
    });
    // A new endpoint set, a rate limiter that defines its counters, and a plugin whose
    // configuration is refused: the whole configuration is rejected.
    let filters = build_filters();
    let ratelimit = Plugin::new("ratelimit", &filters.ratelimit)
        .configuration(json!({ "tokens_per_second": 1, "burst": 1, "key": "global" }));
    let broken = Plugin::new("broken", &filters.headers)
        .configuration(json!({ "request": { "add": { "bad name": "v" } } }));
    rewrite_config(
        &proxy,
        &discovery_config(backend.addr, "10.0.0.2:8080", vec![ratelimit, broken]),
    );
    poll_until(
        "the reload error at /config",
        Duration::from_secs(10),
        || {
            let config: Value = proxy.admin_get("/config").json();
            match config["last_reload_error"].as_str() {
                Some(error) if error.contains("broken") => Ok(()),
                other => Err(format!("last_reload_error {other:?}")),
            }
        },
    );
    assert_eq!(
        web_endpoints(&proxy),
        ["10.0.0.1:8080"],
        "the rejected configuration's endpoint set was published"
    );
    let metrics = proxy.admin_get("/metrics").text();
    assert!(
        !metrics.contains("ratelimit_"),
        "the rejected configuration's metrics are exposed:\n{metrics}"
    );
}

/// A generation the reload accepts (its trial passes) but one worker cannot start: that
/// worker keeps serving the old generation, and `/config` says why in `worker_error` instead
/// of reporting the new generation as if all was well.
#[test]
fn a_worker_that_cannot_start_a_generation_is_reported() {
    let backend = Backend::start("b1");
    let base = MeshConfig::new()
        .workers(2)
        .cluster(Cluster::fixed("backend", [backend.addr]))
        .listener(Listener::new("main").route(Route::prefix("/", "backend")));
    let proxy = Wasmesh::start(base.to_wasmesh_json());
    let config: Value = proxy.admin_get("/config").json();
    assert!(config["worker_error"].is_null(), "{config}");
    let once = wasmesh_tests::wat::module("configure-once");
    let next = MeshConfig::new()
        .workers(2)
        .plugin(Plugin::new("once", &once).vm_id("once"))
        .cluster(Cluster::fixed("backend", [backend.addr]))
        .listener(
            Listener::new("main")
                .filter("once")
                .route(Route::prefix("/", "backend")),
        );
    rewrite_config(&proxy, &next.to_wasmesh_json());
    let error = poll_until(
        "the worker error at /config",
        Duration::from_secs(10),
        || {
            let config: Value = proxy.admin_get("/config").json();
            match (
                config["generation"].as_u64(),
                config["worker_error"].as_str(),
            ) {
                (Some(2), Some(error)) => Ok(error.to_string()),
                other => Err(format!("{other:?}: {config}")),
            }
        },
    );
    assert!(
        error.contains("once"),
        "the error names the plugin: {error}"
    );
    // Both workers still serve (one the new generation, one the old).
    for _ in 0..8 {
        assert_eq!(client::get(&proxy.url("main", "/"), &[]).status, 200);
    }
}

/// Two plugins sharing a VM (the same VM id, VM configuration and module); a reload changes
/// the second one's configuration: its new root context starts in the same VM, as in Envoy, so
/// the module's globals (the `vm-instance` case's stream count) live on, and the first plugin
/// keeps its root.
#[test]
fn a_changed_plugin_stays_in_the_vm_it_shares() {
    let backend = Backend::start("b1");
    let abi = build_filters().abi_test.clone();
    let config = |second: &str| {
        let plugin = |name: &str, configuration: &str| {
            Plugin::new(name, &abi)
                .root_id(name)
                .vm_id("shared")
                .vm_config(json!("sharing"))
                .configuration(json!(configuration))
        };
        MeshConfig::single(
            vec![plugin("first", "one"), plugin("second", second)],
            [backend.addr],
        )
        .to_wasmesh_json()
    };
    let proxy = Wasmesh::start(config("two"));
    let seen = |root: &str| {
        let response = client::get(&proxy.url("main", "/"), &[("x-abi-case", "vm-instance")]);
        assert_eq!(response.status, 200, "{}", response.text());
        let value = response.header(&format!("x-abi-instance-{root}"));
        let value = value.unwrap_or_else(|| panic!("{root}: {:?}", response.headers));
        let field = |key: &str| {
            let pair = value.split(';').find(|p| p.starts_with(&format!("{key}=")));
            let n = pair
                .and_then(|p| p.split_once('='))
                .map(|(_, n)| n.parse::<u32>());
            n.expect("the field").expect("a count")
        };
        (field("stream"), field("root_context"))
    };
    let (stream, first_root) = seen("first");
    assert_eq!(stream, 1);
    let (stream, second_root) = seen("second");
    assert_eq!(stream, 4, "two requests, two plugins, one instance");
    rewrite_config(&proxy, &config("two, changed"));
    poll_until("generation 2", Duration::from_secs(10), || {
        let _ = client::shared().get_checked(&proxy.url("main", "/"));
        match generation(&proxy) {
            2 => Ok(()),
            n => Err(format!("generation {n}")),
        }
    });
    let (stream, root) = seen("first");
    assert_eq!(
        (stream, root),
        (5, first_root),
        "the first plugin's root counts on in the same instance"
    );
    let (stream, root) = seen("second");
    assert_eq!(stream, 8, "the changed plugin runs in the same instance");
    assert_ne!(
        root, second_root,
        "the changed plugin has a new root context"
    );
}
