//! TCP listeners with network filters, the same in both hosts: `tests/guests/tcp-test` as
//! Envoy's `envoy.filters.network.wasm` in front of `tcp_proxy`, and as a wasmesh `tcp_proxy`
//! listener's filter, relaying to a TCP echo server. A test asserts what the client gets back,
//! what the server got, and the callbacks the filter logged for the client's connection, in
//! order, with their sizes and peers.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

use serde_json::json;

use crate::Plugin;
use crate::{build_filters, poll_until, Backend, BackendHandle, Cluster, Listener, MeshConfig};
use crate::{Proxy, ProxyKind, TcpEcho};

/// A TCP listener `tcp` running the tcp-test filter in front of `echo`, and a cluster `http`
/// (an HTTP backend) for the filter's calls.
fn tcp_mesh(echo: &TcpEcho, http: &BackendHandle) -> MeshConfig {
    tcp_mesh_failing(echo, http, false)
}

/// [`tcp_mesh`] with the plugin's `fail_open` set.
fn tcp_mesh_failing(echo: &TcpEcho, http: &BackendHandle, fail_open: bool) -> MeshConfig {
    let plugin = Plugin::new("tcp-test", &build_filters().tcp_test)
        .configuration(json!({ "call_cluster": "http" }))
        .fail_open(fail_open);
    MeshConfig::new()
        .plugin(plugin)
        .cluster(Cluster::fixed("echo", [echo.addr]))
        .cluster(Cluster::fixed("http", [http.addr]))
        .listener(Listener::tcp("tcp", "echo").filter("tcp-test"))
}

/// A client connection to the proxy's TCP listener.
struct Client {
    stream: TcpStream,
}

impl Client {
    fn connect(proxy: &Proxy) -> Client {
        let addr = proxy.listener("tcp");
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
            .unwrap_or_else(|e| panic!("connecting to {addr}: {e}"));
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("a read timeout");
        Client { stream }
    }

    fn port(&self) -> u16 {
        self.stream.local_addr().expect("a local address").port()
    }

    fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("writing to the proxy");
    }

    /// Reads exactly `n` bytes.
    fn receive(&mut self, n: usize) -> Vec<u8> {
        let mut bytes = vec![0; n];
        self.stream
            .read_exact(&mut bytes)
            .unwrap_or_else(|e| panic!("reading {n} bytes from the proxy: {e}"));
        bytes
    }

    /// Ends our side, then reads until the proxy ends its side.
    fn finish(mut self) -> Vec<u8> {
        self.stream
            .shutdown(Shutdown::Write)
            .expect("ending our side");
        self.read_to_end()
    }

    /// Reads until the proxy ends the connection: its end of stream, or a reset (a proxy that
    /// closes a connection with bytes of the client's still unread resets it, Envoy and wasmesh
    /// alike).
    fn read_to_end(&mut self) -> Vec<u8> {
        let mut rest = Vec::new();
        let mut buf = [0u8; 16 * 1024];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => return rest,
                Ok(n) => rest.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return rest,
                Err(e) => panic!("reading until the proxy ends the connection: {e}"),
            }
        }
    }
}

/// The callbacks the filter logged for the connection from client port `port`, once it logged
/// `log` (its last), without the tag.
fn callbacks(proxy: &Proxy, port: u16) -> Vec<String> {
    let tag = format!("tcp-test conn={port}: ");
    let lines = |logs: &str| -> Vec<String> {
        logs.lines()
            .filter_map(|line| {
                line.split_once(&tag)
                    .map(|(_, what)| what.trim().to_string())
            })
            .collect()
    };
    poll_until(
        "the filter's on_log for the connection",
        Duration::from_secs(10),
        || {
            let seen = lines(&proxy.logs());
            match seen.iter().any(|l| l == "log") {
                true => Ok(seen),
                false => Err(format!("logged so far: {seen:?}")),
            }
        },
    )
}

/// What the echo server's connections sent it, once one has finished.
fn finished(echo: &TcpEcho) -> Vec<Vec<u8>> {
    poll_until(
        "the echo server's connection to end",
        Duration::from_secs(5),
        || {
            let received = echo.received();
            match received.is_empty() {
                true => Err("none ended yet".to_string()),
                false => Ok(received),
            }
        },
    )
}

/// `tcp_bytes_pass_through_network_filters`: a line sent in two pieces is held until whole,
/// upper-cased on its way up, echoed, and its `O`s turned into `0`s on the way back; each
/// side's end passes on as a half-close, and the filter sees every callback in Envoy's order.
pub fn tcp_bytes_pass_through_network_filters(kind: ProxyKind) {
    let (echo, http) = (TcpEcho::start(), Backend::start("http"));
    let proxy = kind.start(&tcp_mesh(&echo, &http));
    let mut client = Client::connect(&proxy);
    let port = client.port();
    client.send(b"hello ");
    std::thread::sleep(Duration::from_millis(200));
    client.send(b"world\n");
    assert_eq!(client.receive(12), b"HELL0 W0RLD\n", "{}", kind.name());
    let rest = client.finish();
    assert!(
        rest.is_empty(),
        "{}: more after the echo: {rest:?}",
        kind.name()
    );
    let received = finished(&echo);
    assert_eq!(received, [b"HELLO WORLD\n".to_vec()], "{}", kind.name());
    let listener = proxy.listener("tcp");
    assert_eq!(
        callbacks(&proxy, port),
        [
            format!("new_connection source=127.0.0.1:{port} destination={listener}"),
            "downstream_data size=6 eos=false".to_string(),
            "downstream_data size=12 eos=false".to_string(),
            format!("upstream_address {}", echo.addr),
            "upstream_data size=12 eos=false".to_string(),
            "downstream_data size=0 eos=true".to_string(),
            "upstream_data size=0 eos=true".to_string(),
            "upstream_close peer=0".to_string(),
            "downstream_close peer=1".to_string(),
            "done".to_string(),
            "log".to_string(),
        ],
        "{}",
        kind.name()
    );
}

/// `tcp_filter_closes_the_connection`: a line starting `QUIT` makes the filter close the
/// connection; the client gets nothing back, the echo server nothing, and the filter is told
/// the proxy closed it.
pub fn tcp_filter_closes_the_connection(kind: ProxyKind) {
    let (echo, http) = (TcpEcho::start(), Backend::start("http"));
    let proxy = kind.start(&tcp_mesh(&echo, &http));
    let mut client = Client::connect(&proxy);
    let port = client.port();
    client.send(b"QUIT now\n");
    assert_eq!(client.read_to_end(), b"", "{}", kind.name());
    let seen = callbacks(&proxy, port);
    assert_eq!(
        &seen[1..],
        [
            "downstream_data size=9 eos=false",
            "downstream_close peer=1",
            "done",
            "log"
        ],
        "{}",
        kind.name()
    );
    let received = finished(&echo);
    assert_eq!(received, [Vec::<u8>::new()], "{}", kind.name());
}

/// `tcp_filter_calls_out_before_passing_bytes`: the filter holds a `CALL` line, makes an HTTP
/// call, and resumes reading (`proxy_continue_stream(DOWNSTREAM)`) when the answer comes: the
/// line reaches the server only after the call was answered.
pub fn tcp_filter_calls_out_before_passing_bytes(kind: ProxyKind) {
    let (echo, http) = (TcpEcho::start(), Backend::start("http"));
    let proxy = kind.start(&tcp_mesh(&echo, &http));
    let mut client = Client::connect(&proxy);
    let port = client.port();
    client.send(b"call me\n");
    assert_eq!(client.receive(8), b"CALL ME\n", "{}", kind.name());
    assert_eq!(client.finish(), b"", "{}", kind.name());
    let seen = callbacks(&proxy, port);
    let at = |line: &str| {
        seen.iter()
            .position(|l| l.starts_with(line))
            .unwrap_or_else(|| panic!("{}: no {line:?} in {seen:#?}", kind.name()))
    };
    assert!(
        at("downstream_data size=8") < at("call_response status=200")
            && at("call_response status=200") < at("upstream_data size=8"),
        "{}: {seen:#?}",
        kind.name()
    );
}

/// `tcp_held_bytes_are_bounded`: a client that streams bytes the filter holds (no newline)
/// is read only up to the listener's buffer limit (1 MiB): its writes stall instead of the
/// proxy's memory growing, and the proxy serves the next connection.
pub fn tcp_held_bytes_are_bounded(kind: ProxyKind) {
    let (echo, http) = (TcpEcho::start(), Backend::start("http"));
    let proxy = kind.start(&tcp_mesh(&echo, &http));
    let mut flood = Client::connect(&proxy);
    flood
        .stream
        .set_write_timeout(Some(Duration::from_secs(2)))
        .expect("a write timeout");
    let chunk = vec![b'x'; 64 * 1024];
    let mut sent = 0usize;
    while sent < 64 << 20 {
        match flood.stream.write(&chunk) {
            Ok(n) => sent += n,
            Err(_) => break,
        }
    }
    assert!(
        sent < 32 << 20,
        "{}: the proxy read {sent} bytes a filter holds",
        kind.name()
    );
    let mut next = Client::connect(&proxy);
    next.send(b"still there\n");
    assert_eq!(next.receive(12), b"STILL THERE\n", "{}", kind.name());
    drop(flood);
}

/// `tcp_vm_failure_follows_fail_open`: the filter's VM fails on a connection's bytes. Failing
/// closed, the connection is closed and nothing reaches the server; failing open, the bytes go
/// through untouched both ways. wasmesh then rebuilds the VM for the next connection.
pub fn tcp_vm_failure_follows_fail_open(kind: ProxyKind) {
    for fail_open in [false, true] {
        let (echo, http) = (TcpEcho::start(), Backend::start("http"));
        let proxy = kind.start(&tcp_mesh_failing(&echo, &http, fail_open));
        proxy.expect_vm_failures();
        let mut client = Client::connect(&proxy);
        client.send(b"TRAP here\n");
        let expected: &[u8] = if fail_open { b"TRAP here\n" } else { b"" };
        let got = if fail_open {
            let echoed = client.receive(expected.len());
            assert_eq!(client.finish(), b"", "{}", kind.name());
            echoed
        } else {
            client.read_to_end()
        };
        assert_eq!(got, expected, "{}: fail_open {fail_open}", kind.name());
        let sent = if fail_open {
            expected.to_vec()
        } else {
            Vec::new()
        };
        assert_eq!(
            finished(&echo),
            [sent],
            "{}: fail_open {fail_open}",
            kind.name()
        );
    }
}

/// `tcp_filter_chooses_the_cluster`: in `proxy_on_new_connection` the filter sets Envoy's
/// filter state `envoy.tcp_proxy.cluster` (`set_envoy_filter_state`) to the cluster its
/// configuration names: the connection goes there instead of the listener's cluster, and to a
/// cluster that does not exist it is closed.
pub fn tcp_filter_chooses_the_cluster(kind: ProxyKind) {
    let (echo, other, http) = (TcpEcho::start(), TcpEcho::start(), Backend::start("http"));
    for route_to in ["other", "nowhere"] {
        let plugin = Plugin::new("tcp-test", &build_filters().tcp_test)
            .configuration(json!({ "call_cluster": "http", "route_to": route_to }));
        let config = MeshConfig::new()
            .plugin(plugin)
            .cluster(Cluster::fixed("echo", [echo.addr]))
            .cluster(Cluster::fixed("other", [other.addr]))
            .cluster(Cluster::fixed("http", [http.addr]))
            .listener(Listener::tcp("tcp", "echo").filter("tcp-test"));
        let proxy = kind.start(&config);
        let mut client = Client::connect(&proxy);
        let port = client.port();
        client.send(b"routed\n");
        if route_to == "other" {
            assert_eq!(client.receive(7), b"R0UTED\n", "{}", kind.name());
            assert_eq!(client.finish(), b"", "{}", kind.name());
            assert_eq!(finished(&other), [b"ROUTED\n".to_vec()], "{}", kind.name());
        } else {
            assert_eq!(client.read_to_end(), b"", "{}", kind.name());
        }
        let seen = callbacks(&proxy, port);
        let set = format!("set_envoy_filter_state cluster={route_to} status=Ok");
        assert!(seen.contains(&set), "{}: {seen:#?}", kind.name());
    }
    assert!(
        echo.received().is_empty(),
        "{}: the listener's cluster was used",
        kind.name()
    );
}

/// `tcp_connections_are_counted` (wasmesh only; Envoy names its own `tcp.<prefix>.*` stats):
/// each ended connection counts once per listener with its bytes each way, and one whose
/// upstream refuses counts as a connect failure.
pub fn tcp_connections_are_counted() {
    let (echo, http) = (TcpEcho::start(), Backend::start("http"));
    let refusing = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        listener.local_addr().expect("its address")
    };
    let config = tcp_mesh(&echo, &http)
        .cluster(Cluster::fixed("dead", [refusing]))
        .listener(Listener::tcp("down", "dead"));
    let proxy = ProxyKind::Wasmesh.start(&config);
    let mut client = Client::connect(&proxy);
    client.send(b"hello\n");
    assert_eq!(client.receive(6), b"HELL0\n");
    assert_eq!(client.finish(), b"");
    let addr = proxy.listener("down");
    let mut refused = TcpStream::connect(addr).expect("connecting to the down listener");
    let _ = refused.write_all(b"anyone?\n");
    let mut rest = Vec::new();
    let _ = refused.read_to_end(&mut rest);
    assert!(rest.is_empty(), "{rest:?}");
    let want = [
        "wasmesh_tcp_connections_total{listener=\"tcp\"} 1",
        "wasmesh_tcp_received_bytes_total{listener=\"tcp\"} 6",
        "wasmesh_tcp_sent_bytes_total{listener=\"tcp\"} 6",
        "wasmesh_tcp_connections_total{listener=\"down\"} 1",
        "wasmesh_tcp_upstream_connect_failures_total{listener=\"down\"} 1",
    ];
    poll_until("the TCP counters", Duration::from_secs(5), || {
        let metrics = proxy.admin_get("/metrics").text();
        match want
            .iter()
            .find(|line| !metrics.lines().any(|l| l == **line))
        {
            None => Ok(()),
            Some(missing) => Err(format!("no {missing} in:\n{metrics}")),
        }
    });
}

/// `tcp_listener_terminates_tls`: a TCP listener with `tls` (Envoy: the filter chain's
/// transport socket) terminates it and relays the plain bytes: an HTTPS request reaches the
/// plain HTTP backend through the network filter in quiet mode and its answer comes back.
pub fn tcp_listener_terminates_tls(kind: ProxyKind) {
    let pki = crate::pki::TestPki::mint();
    let backend = Backend::start("b1");
    let plugin =
        Plugin::new("tcp-test", &build_filters().tcp_test).configuration(json!({ "quiet": true }));
    let tls = crate::ListenerTls {
        certificate_chain: pki.server.cert.clone(),
        private_key: pki.server.key.clone(),
        client_ca: None,
        require_client_certificate: false,
    };
    let config = MeshConfig::new()
        .plugin(plugin)
        .cluster(Cluster::fixed("backend", [backend.addr]))
        .listener(Listener::tcp("tcp", "backend").filter("tcp-test").tls(tls));
    let proxy = kind.start(&config);
    let port = proxy.listener("tcp").port();
    let outcome = crate::tls_client::Https::get("api.test", port, "/through-tls", &pki.ca).send();
    assert_eq!(
        (outcome.exit, outcome.status),
        (0, 200),
        "{}: {outcome:?}",
        kind.name()
    );
    assert_eq!(outcome.json()["path"], "/through-tls", "{}", kind.name());
}
