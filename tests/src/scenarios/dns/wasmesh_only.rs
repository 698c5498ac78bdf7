//! The scenarios only wasmesh has: `SRV` and `AAAA` entries (Envoy's `STRICT_DNS` takes neither
//! `SRV` nor, here, `AAAA`: the committed config asks `V4_ONLY`) and reconfiguration by a reload
//! of wasmesh's own configuration.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use serde_json::json;

use super::dnsmasq::{Dnsmasq, Srv};
use super::{counts, even, records, wasmesh_config, Rig, FOLLOW_BOUND, NAME};
use crate::scenarios::discovery::wait_for_set;
use crate::scenarios::lb::{mesh_with, tally};
use crate::scenarios::reload;
use crate::{build_filters, poll_until, Backend, BackendHandle, ProxyKind, Wasmesh};

/// wasmesh: `SRV` records give each endpoint its port, weight and priority. b1 (weight 3) and
/// b2 (weight 1) at priority 0, b3 at priority 1: `lb` (weighted) sends 30 of 40 requests to
/// b1, 10 to b2, none to b3; with b1 and b2 gone from the records, b3 takes everything.
pub fn srv_records_give_ports_weights_and_priorities() {
    let b: Vec<BackendHandle> = ["b1", "b2", "b3"].into_iter().map(Backend::start).collect();
    let srv = |i: usize, priority, weight| Srv {
        name: "_http._tcp.web.mesh.test".to_string(),
        target: format!("b{}.mesh.test", i + 1),
        port: b[i].addr.port(),
        priority,
        weight,
    };
    let hosts = |names: &[&'static str]| -> Vec<(IpAddr, &'static str)> {
        names.iter().map(|n| (b[0].addr.ip(), *n)).collect()
    };
    let all = ["b1.mesh.test", "b2.mesh.test", "b3.mesh.test"];
    let dns = Dnsmasq::start(&hosts(&all), &[srv(0, 0, 3), srv(1, 0, 1), srv(2, 1, 1)]);
    let filters = build_filters();
    let lb = json!({ "service": "web", "policy": "weighted" });
    let mut config = mesh_with(&filters.lb, lb).to_wasmesh_json();
    config["dns"] = json!([{
        "service": "web", "name": "_http._tcp.web.mesh.test", "type": "SRV",
        "resolver": dns.addr.to_string(), "refresh_ms": 1000, "min_refresh_ms": 200,
    }]);
    let proxy = Wasmesh::start(config);
    wait_for_set(&proxy, &["b1", "b2"], Duration::from_secs(10));
    let seen = tally(&proxy, 40, |_| Vec::new());
    assert_eq!(seen, BTreeMap::from([("b1".into(), 30), ("b2".into(), 10)]));
    // b1 and b2's targets stop resolving: their records are left out, b3 is what is left.
    dns.set_hosts(&hosts(&["b3.mesh.test"]));
    wait_for_set(&proxy, &["b3"], Duration::from_secs(10));
    let logs = proxy.logs();
    assert!(logs.contains("SRV target left out: b1.mesh.test"), "{logs}");
}

/// wasmesh: a reload reconfigures DNS discovery. The entry's name changed (to one answering
/// b3): the balancer follows. A bad entry (no plugin with its `vm_id`): the reload is rejected
/// naming the field, and b3 keeps serving. The entry removed: its refresh stops, the last set
/// stays.
pub fn reload_reconfigures_dns() {
    let Rig { b, dns, proxy } = Rig::start(ProxyKind::Wasmesh);
    let (server, port) = (dns.addr, b[0].addr.port());
    let mut hosts = records(&[&b[0], &b[1]]);
    hosts.push((b[2].addr.ip(), "next.mesh.test"));
    dns.set_hosts(&hosts);
    let renamed = wasmesh_config(server, port, json!({ "name": "next.mesh.test" }));
    reload::rewrite_config(&proxy, &renamed);
    wait_for_set(&proxy, &["b3"], Duration::from_secs(15));

    let bad = wasmesh_config(server, port, json!({ "name": NAME, "vm_id": "nope" }));
    reload::rewrite_config(&proxy, &bad);
    let rejected = poll_until("the reload rejected", Duration::from_secs(15), || {
        let logs = proxy.logs();
        let line = logs.lines().find(|l| l.contains("reload rejected"));
        line.map(str::to_string).ok_or("not yet".to_string())
    });
    assert!(rejected.contains("dns[0].vm_id"), "{rejected}");
    assert_eq!(
        counts(&proxy),
        even(&["b3"], 20),
        "the old generation resolves on"
    );

    let mut removed = renamed;
    removed["dns"] = json!([]);
    reload::rewrite_config(&proxy, &removed);
    poll_until("the refresh stopped", Duration::from_secs(15), || {
        let logs = proxy.logs();
        match logs.contains("dns: web: refresh of next.mesh.test stopped") {
            true => Ok(()),
            false => Err("not yet".to_string()),
        }
    });
    dns.set_hosts(&records(&[&b[0]]));
    // A measurement window, not a readiness wait: a running refresh would move to b1 within it.
    std::thread::sleep(FOLLOW_BOUND);
    assert_eq!(counts(&proxy), even(&["b3"], 20), "the last set stays");
}

/// wasmesh: `AAAA` records give IPv6 endpoints: `web.mesh.test` has an `A` record for b1 and
/// an `AAAA` record (`::1`) for b2; an `AAAA` entry reaches b2 only, at `[::1]:port`.
pub fn aaaa_records_give_ipv6_endpoints() {
    let b1 = Backend::start("b1");
    let b2 = Backend::start_on("b2", "[::1]:0".parse().expect("an IPv6 address"))
        .unwrap_or_else(|e| panic!("binding [::1]:0: {e}"));
    let dns = Dnsmasq::start(&[(b1.addr.ip(), NAME), (b2.addr.ip(), NAME)], &[]);
    let extra = json!({ "type": "AAAA" });
    let proxy = Wasmesh::start(wasmesh_config(dns.addr, b2.addr.port(), extra));
    wait_for_set(&proxy, &["b2"], Duration::from_secs(10));
    assert_eq!(b1.requests_seen(), 0, "the A record's address was used");
    let logs = proxy.logs();
    let want = format!("[\"[::1]:{}\"]", b2.addr.port());
    assert!(logs.contains(&want), "the set is {want}:\n{logs}");
}
