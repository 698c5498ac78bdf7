//! WebSocket upgrades, where a listener allows them (`upgrade_configs`, both hosts): the
//! session works end to end through the filters, the upgrade headers reach the backend
//! with the filters' changes, and a route that turns upgrades off answers 403.

use serde_json::{json, Value};

use crate::websocket::session;
use crate::{build_filters, Backend, Cluster, Listener, MeshConfig, Plugin, ProxyKind, Route};

/// A listener allowing WebSocket, with the `headers` filter adding a request header; route
/// `/closed` turns upgrades off. A session on `/ws` is proxied both ways (several messages
/// each way, in order); the backend saw the upgrade and the filter's header; `/closed` is 403.
pub fn websockets_are_proxied_where_allowed(kind: ProxyKind) {
    let host = kind.name();
    let filters = build_filters();
    let backend = Backend::start("ws");
    let tag = Plugin::new("tag", &filters.headers)
        .configuration(json!({ "request": { "set": { "x-through": "filters" } } }));
    let config = MeshConfig::new()
        .plugin(tag)
        .cluster(Cluster::fixed("backend", [backend.addr]))
        .listener(
            Listener::new("main")
                .websocket()
                .filter("tag")
                .route(Route::prefix("/closed", "backend").websocket(false))
                .route(Route::prefix("/", "backend")),
        );
    let proxy = kind.start(&config);
    let addr = proxy.listener("main");

    let messages = ["one", "two", &"x".repeat(70_000)];
    let opened = session(addr, "/ws", &messages)
        .unwrap_or_else(|e| panic!("{host}: no WebSocket session: {e}"));
    assert_eq!(opened.status, 101, "{host}");
    let expected: Vec<String> = messages.iter().map(|m| format!("ws: {m}")).collect();
    assert_eq!(opened.replies, expected, "{host}");
    let echo: Value = serde_json::from_str(&opened.greeting).expect("the backend's JSON echo");
    let seen = |name: &str| echo["headers"][name].as_str().map(str::to_ascii_lowercase);
    assert_eq!(
        seen("upgrade").as_deref(),
        Some("websocket"),
        "{host}: {echo}"
    );
    assert_eq!(
        seen("connection").as_deref(),
        Some("upgrade"),
        "{host}: {echo}"
    );
    assert_eq!(
        seen("x-through").as_deref(),
        Some("filters"),
        "{host}: {echo}"
    );

    let refused = session(addr, "/closed/ws", &[]);
    assert_eq!(
        refused.map(|s| s.status),
        Err("status 403".into()),
        "{host}"
    );
    assert_eq!(
        backend.requests_seen(),
        1,
        "{host}: only the allowed upgrade reached it"
    );
}
