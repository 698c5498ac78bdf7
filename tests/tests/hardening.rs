//! What a hostile client or an unlucky environment must not do to the proxy (issue 15): the
//! scenarios Envoy 1.40 shares run in both hosts (`<scenario>::wasmesh`, `<scenario>::envoy`);
//! the rest are wasmesh's own protections, with the reason beside each.

use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use wasmesh_tests::scenarios::attribution::failures_are_attributed_as_envoy_does;
use wasmesh_tests::scenarios::limits::{
    buffering_filter_hits_the_buffer_limit, silent_streams_meet_the_stream_idle_timeout,
    stalled_downloads_are_cut_by_the_route_timeout,
    stalled_downloads_are_cut_by_the_stream_idle_timeout,
};
use wasmesh_tests::scenarios::overload::{
    circuit_breakers_answer_503_at_once, listener_connection_limit,
};
use wasmesh_tests::scenarios::strict::{
    length_with_chunked, malformed_requests_are_refused, oversized_heads_get_431,
    unusual_request_forms_reach_the_backend_intact,
};
use wasmesh_tests::scenarios::websocket::websockets_are_proxied_where_allowed;
use wasmesh_tests::{
    build_filters, client, poll_until, Backend, BackendHandle, Cluster, Listener, MeshConfig,
    Plugin, ProxyKind, Route,
};

wasmesh_tests::in_both_hosts!(
    malformed_requests_are_refused,
    oversized_heads_get_431,
    length_with_chunked,
    buffering_filter_hits_the_buffer_limit,
    listener_connection_limit,
    circuit_breakers_answer_503_at_once,
    silent_streams_meet_the_stream_idle_timeout,
    stalled_downloads_are_cut_by_the_stream_idle_timeout,
    stalled_downloads_are_cut_by_the_route_timeout,
    websockets_are_proxied_where_allowed,
    failures_are_attributed_as_envoy_does,
    unusual_request_forms_reach_the_backend_intact,
);

/// wasmesh only (Envoy has no such list): a filter that names a destination outside the
/// cluster's `allowed_destinations` gets 503, counted, and nothing reaches that address; one
/// inside is served.
#[test]
fn original_dst_keeps_to_its_allowed_destinations() {
    let header = "x-envoy-original-dst-host";
    let filters = build_filters();
    let target = Backend::start("target");
    let chosen = target.addr.to_string();
    let pick = Plugin::new("pick", &filters.headers)
        .configuration(serde_json::json!({ "request": { "set": { header: chosen } } }));
    let config = MeshConfig::new()
        .plugin(pick)
        .cluster(Cluster::original_dst("outside", header).allowed_destinations(&["10.0.0.0/8"]))
        .cluster(Cluster::original_dst("inside", header).allowed_destinations(&["127.0.0.0/8"]))
        .listener(
            Listener::new("main")
                .filter("pick")
                .route(Route::prefix("/outside", "outside"))
                .route(Route::prefix("/inside", "inside")),
        );
    let proxy = ProxyKind::Wasmesh.start(&config);

    let refused = client::get(&proxy.url("main", "/outside"), &[]);
    assert_eq!(refused.status, 503, "{}", refused.text());
    assert_eq!(refused.text(), "original destination not allowed");
    assert_eq!(
        target.requests_seen(),
        0,
        "the refused destination was reached"
    );
    let metrics = proxy.admin_get("/metrics").text();
    assert!(
        metrics.contains("wasmesh_original_dst_refused_total{cluster=\"outside\"} 1"),
        "{metrics}"
    );

    let served = client::get(&proxy.url("main", "/inside"), &[]);
    assert_eq!(served.status, 200, "{}", served.text());
    assert_eq!(served.echo().backend, "target");
}

/// wasmesh only: with `allowed_endpoints`, a filter may send requests to the addresses the
/// mesh publishes for the service (here `discovery`'s static list: `known`) and nowhere else.
#[test]
fn original_dst_keeps_to_published_endpoints() {
    let header = "x-envoy-original-dst-host";
    let filters = build_filters();
    let known = Backend::start("known");
    let stranger = Backend::start("stranger");
    let endpoints = serde_json::json!([{ "address": known.addr.to_string() }]);
    let discovery = Plugin::new("discovery", &filters.discovery)
        .vm_id("mesh")
        .configuration(serde_json::json!({ "poll_ms": 200,
            "services": [{ "service": "web", "source": { "static": { "endpoints": endpoints } } }] }));
    let pick = |name: &str, to: &BackendHandle| {
        Plugin::new(name, &filters.headers).configuration(
            serde_json::json!({ "request": { "set": { header: to.addr.to_string() } } }),
        )
    };
    let config = MeshConfig::new()
        .plugin(discovery)
        .plugin(pick("to-known", &known))
        .plugin(pick("to-stranger", &stranger))
        .cluster(Cluster::original_dst("mesh", header).allowed_endpoints("mesh", &["web"]))
        .listener(
            Listener::new("known")
                .filter("discovery")
                .filter("to-known")
                .route(Route::prefix("/", "mesh")),
        )
        .listener(
            Listener::new("stranger")
                .filter("to-stranger")
                .route(Route::prefix("/", "mesh")),
        );
    let proxy = ProxyKind::Wasmesh.start(&config);
    poll_until(
        "the published endpoint to be served",
        Duration::from_secs(10),
        || {
            let response = client::get(&proxy.url("known", "/"), &[]);
            match response.status.as_u16() {
                200 => Ok(()),
                other => Err(format!("{other}: {}", response.text())),
            }
        },
    );
    let refused = client::get(&proxy.url("stranger", "/"), &[]);
    assert_eq!(refused.status, 503, "{}", refused.text());
    assert_eq!(refused.text(), "original destination not allowed");
    assert_eq!(
        stranger.requests_seen(),
        0,
        "an unpublished address was reached"
    );
}

/// Connections held open against each listener: more than the descriptors left to wasmesh.
const HELD: usize = 40;
/// Descriptors wasmesh may open beyond those it has when the limit is set.
const SPARE_FDS: usize = 8;
/// The window its CPU time is measured over, and the most it may use in it while every accept
/// fails (a loop that retries at once uses all of it).
const WINDOW: Duration = Duration::from_secs(2);
const MAX_CPU_IN_WINDOW: Duration = Duration::from_millis(400);

/// wasmesh only: a process-level matter, nothing to compare.
#[test]
fn accept_loops_back_off_when_descriptors_run_out() {
    let backend = Backend::start("b1");
    let config = MeshConfig::new()
        .workers(1)
        .cluster(Cluster::fixed("backend", [backend.addr]))
        .listener(Listener::new("main").route(Route::prefix("/", "backend")));
    let proxy = ProxyKind::Wasmesh.start(&config);
    let pid = proxy.pid();
    let original = soft_nofile(pid);
    let limit = open_fds(pid) + SPARE_FDS;
    set_soft_nofile(pid, limit);

    // Every listener's backlog fills with connections wasmesh cannot accept.
    let held: Vec<TcpStream> = [proxy.admin, proxy.listener("main")]
        .iter()
        .flat_map(|addr| (0..HELD).map(move |_| TcpStream::connect(addr)))
        .collect::<Result<_, _>>()
        .expect("connecting (the kernel accepts into the backlog)");
    poll_until(
        "wasmesh to use every descriptor",
        Duration::from_secs(10),
        || {
            let open = open_fds(pid);
            (open >= limit)
                .then_some(())
                .ok_or_else(|| format!("{open} of {limit} open"))
        },
    );
    let before = cpu_time(pid);
    std::thread::sleep(WINDOW);
    let used = cpu_time(pid) - before;
    assert!(
        used < MAX_CPU_IN_WINDOW,
        "wasmesh used {used:?} of CPU in {WINDOW:?} while accepts failed: a busy loop"
    );
    let logs = proxy.logs();
    for listener in ["admin", "listener main"] {
        assert!(
            logs.contains(&format!("{listener}: accept failed: Too many open files")),
            "{listener}: no `accept failed` in the log"
        );
    }

    // Descriptors back: both listeners serve again.
    drop(held);
    set_soft_nofile(pid, original);
    poll_until(
        "the admin to answer again",
        Duration::from_secs(10),
        || match client::Client::http1()
            .with_timeout(Duration::from_secs(2))
            .get_checked(&format!("http://{}/ready", proxy.admin))
        {
            Ok(response) if response.status == 200 => Ok(()),
            other => Err(format!("{other:?}")),
        },
    );
    assert_eq!(client::get(&proxy.url("main", "/after"), &[]).status, 200);
}

/// `prlimit --pid <pid> --nofile=<n>:`: the soft limit only, so it can be raised back.
fn set_soft_nofile(pid: u32, limit: usize) {
    let status = Command::new("prlimit")
        .arg("--pid")
        .arg(pid.to_string())
        .arg(format!("--nofile={limit}:"))
        .status()
        .expect("running prlimit (util-linux)");
    assert!(status.success(), "prlimit --nofile={limit}: failed");
}

/// The soft `Max open files` of process `pid`.
fn soft_nofile(pid: u32) -> usize {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).expect("reading limits");
    limits
        .lines()
        .find(|line| line.starts_with("Max open files"))
        .and_then(|line| line.split_whitespace().nth(3))
        .and_then(|soft| soft.parse().ok())
        .unwrap_or_else(|| panic!("no soft `Max open files` in:\n{limits}"))
}

/// How many descriptors process `pid` has open.
fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("reading wasmesh's descriptors")
        .count()
}

/// The CPU time (user + system) process `pid` has used.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("reading stat");
    // The fields after the command name (which may hold spaces) in parentheses.
    let after = &stat[stat.rfind(')').expect("a command name") + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat(5), 12 and 13 here.
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    let hz = 100; // USER_HZ on Linux
    Duration::from_millis(ticks * 1000 / hz)
}

/// Connections in [`memory_of_a_connection_burst_goes_back_to_the_system`].
const BURST: usize = 1500;

/// wasmesh only (a process-level matter): a burst of keep-alive connections grows the proxy;
/// once they close, most of that memory goes back to the system (glibc kept it all before).
#[test]
fn memory_of_a_connection_burst_goes_back_to_the_system() {
    use std::io::{Read, Write};
    use wasmesh_tests::scenarios::isolation::rss_kib;

    let backend = Backend::start("b1");
    let config = MeshConfig::new()
        .cluster(Cluster::fixed("backend", [backend.addr]))
        .listener(Listener::new("main").route(Route::prefix("/", "backend")));
    let proxy = ProxyKind::Wasmesh.start(&config);
    let before = rss_kib(&proxy);
    let mut burst: Vec<TcpStream> = (0..BURST)
        .map(|_| {
            let mut client = TcpStream::connect(proxy.listener("main")).expect("connecting");
            client
                .write_all(b"GET /b HTTP/1.1\r\nhost: x\r\n\r\n")
                .expect("asking");
            client
        })
        .collect();
    for client in &mut burst {
        client
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("a timeout");
        let mut buf = [0u8; 4096];
        assert!(client.read(&mut buf).expect("an answer") > 0);
    }
    let during = rss_kib(&proxy);
    drop(burst);
    let grown = during.saturating_sub(before);
    assert!(
        grown > 4096,
        "{BURST} connections grew RSS by only {grown} KiB"
    );
    let settled = poll_until(
        "the burst's memory to go back to the system",
        Duration::from_secs(10),
        || {
            let now = rss_kib(&proxy);
            let kept = now.saturating_sub(before);
            if kept * 2 <= grown {
                Ok(now)
            } else {
                Err(format!(
                    "RSS {before} KiB before, {during} with the burst, {now} now"
                ))
            }
        },
    );
    eprintln!(
        "RSS {before} KiB before, {during} KiB with {BURST} connections, {settled} KiB after"
    );
}
