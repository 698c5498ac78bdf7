//! Each worker accepts on a listening socket of its own, all on the listener's port with
//! `SO_REUSEPORT`, so the kernel spreads connections over the workers: the kernel's table of
//! sockets (`/proc/net/tcp`) shows one listening socket per worker on the port, for listeners
//! bound at start and ones a reload adds; a listener a reload removes leaves none. Requests are
//! served on every connection.

use std::net::SocketAddr;

use serde_json::json;

use crate::{client, Backend, Cluster, Listener, MeshConfig, Route, Wasmesh};

/// Sockets listening on `addr`'s port (IPv4), from the kernel's table.
fn listening_sockets(addr: SocketAddr) -> usize {
    let table = std::fs::read_to_string("/proc/net/tcp").expect("/proc/net/tcp");
    let port = format!(":{:04X}", addr.port());
    table
        .lines()
        .skip(1)
        .filter(|line| {
            let mut fields = line.split_whitespace();
            let local = fields.nth(1).unwrap_or_default();
            let state = fields.nth(1).unwrap_or_default();
            local.ends_with(&port) && state == "0A"
        })
        .count()
}

/// Three workers: three listening sockets per listener, at start and after a reload that adds
/// one; none for a listener the reload removed; every connection served.
pub fn a_socket_per_worker() {
    let backend = Backend::start("b1");
    let mesh = MeshConfig::new()
        .workers(3)
        .cluster(Cluster::fixed("backend", [backend.addr]))
        .listener(Listener::new("main").route(Route::prefix("/", "backend")))
        .listener(Listener::new("old").route(Route::prefix("/", "backend")));
    let proxy = Wasmesh::start(mesh.to_wasmesh_json());
    let (main, old) = (proxy.listener("main"), proxy.listener("old"));
    assert_eq!(listening_sockets(main), 3, "one per worker on {main}");
    assert_eq!(listening_sockets(old), 3, "one per worker on {old}");
    for _ in 0..30 {
        // `client::get` opens a new connection each time.
        let response = client::get(&proxy.url("main", "/"), &[]);
        assert_eq!(response.status, 200);
    }
    let mut config = mesh.to_wasmesh_json();
    config["listeners"][1] = json!({
        "name": "new", "address": "127.0.0.1:0",
        "routes": [{ "match": { "prefix": "/" }, "cluster": "backend" }],
    });
    let (status, body) = super::remote_modules::reload_with(&proxy, &config);
    assert_eq!(status, 200, "{body}");
    let new = super::reload::bound_listeners(&proxy)
        .into_iter()
        .find(|(name, _)| name == "new")
        .map(|(_, addr)| addr)
        .expect("the new listener is bound");
    assert_eq!(
        listening_sockets(new),
        3,
        "one per worker on the added {new}"
    );
    crate::poll_until(
        "the removed listener's sockets to close",
        std::time::Duration::from_secs(5),
        || match listening_sockets(old) {
            0 => Ok(()),
            n => Err(format!("{n} still listening on {old}")),
        },
    );
    let response = client::get(&format!("http://{new}/"), &[]);
    assert_eq!(response.status, 200);
}
