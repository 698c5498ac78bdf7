//! Plugins sharing a VM, as Envoy runs them: the plugins whose VM id, VM configuration and
//! module are the same run in one instance of the module per worker, each with a root context
//! of its own; a plugin with another VM id has an instance of its own. The abi-test guest's
//! `vm-instance` case reports the instance's globals as each filter saw them.

use std::collections::BTreeMap;

use serde_json::json;

use crate::client::{self, Response};
use crate::{build_filters, Backend, MeshConfig, Plugin, ProxyKind};

/// What one filter reported: `stream`, `root_context`, `roots`, `vm_starts`.
type Seen = BTreeMap<String, u32>;

/// `first` and `second` share VM id `shared` (and the module and VM configuration), `third`
/// has VM id `own`: the first two count the same streams in the same globals, in chain order,
/// from root contexts of their own; the third counts only its own.
pub fn plugins_with_one_vm_id_share_an_instance(kind: ProxyKind) {
    let filters = build_filters();
    let backend = Backend::start("b1");
    let plugin = |name: &str, vm_id: &str| {
        Plugin::new(name, &filters.abi_test)
            .root_id(name)
            .vm_id(vm_id)
            .vm_config(json!("vm-sharing"))
            .configuration(json!(format!("{name}-configuration")))
    };
    let config = MeshConfig::single(
        vec![
            plugin("first", "shared"),
            plugin("second", "shared"),
            plugin("third", "own"),
        ],
        [backend.addr],
    );
    let proxy = kind.start(&config);
    let host = kind.name();
    let url = proxy.url("main", "/");
    let mut seen = Vec::new();
    for _ in 0..2 {
        let response = client::get(&url, &[("x-abi-case", "vm-instance")]);
        assert_eq!(response.status, 200, "{host}: {}", response.text());
        seen.push(["first", "second", "third"].map(|root| reported(host, &response, root)));
    }
    for (n, [first, second, third]) in seen.iter().enumerate() {
        let n = n as u32;
        assert_eq!(
            (first["stream"], second["stream"], third["stream"]),
            (2 * n + 1, 2 * n + 2, n + 1),
            "{host}: request {n}: first and second count in one instance, third in its own"
        );
        assert_eq!(
            (first["roots"], second["roots"], third["roots"]),
            (2, 2, 1),
            "{host}: root contexts in each instance"
        );
        assert!(
            first["root_context"] < second["root_context"],
            "{host}: each plugin has a root context of its own in the shared instance, started \
             in the configuration's order: {seen:?}"
        );
        assert_eq!(
            (first["vm_starts"], third["vm_starts"]),
            (2, 1),
            "{host}: every root context gets proxy_on_vm_start"
        );
    }
}

/// The counts filter `root` reported in its `x-abi-instance-<root>` header.
fn reported(host: &str, response: &Response, root: &str) -> Seen {
    let name = format!("x-abi-instance-{root}");
    let value = response
        .header(&name)
        .unwrap_or_else(|| panic!("{host}: no {name} in {:?}", response.headers));
    value
        .split(';')
        .map(|pair| {
            let (key, n) = pair.split_once('=').expect("key=value");
            (key.to_string(), n.parse().expect("a count"))
        })
        .collect()
}
