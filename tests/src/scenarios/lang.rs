//! The guests in other languages (`tests/guests/lang/`: Go, AssemblyScript, C; no SDK), each in
//! front of one backend: the same requests and assertions for every language and both hosts.
//! What each guest does is in `tests/guests/lang/README.md`.

use std::time::Duration;

use crate::client;
use crate::{build_lang_guests, poll_until, Backend, MeshConfig, Plugin, ProxyKind};

/// The backend's name: it answers with `x-backend: b1`, which the guests' HTTP call reads.
const BACKEND: &str = "b1";

/// Starts `kind` with the `lang` guest on listener `main` (route and HTTP calls to `backend`),
/// then checks the lifecycle, headers, body, an HTTP call and the tick.
pub fn guest_behaves(kind: ProxyKind, lang: &str) {
    let guest = build_lang_guests()
        .iter()
        .find(|guest| guest.lang == lang)
        .unwrap_or_else(|| panic!("no guest in {lang}"));
    let backend = Backend::start(BACKEND);
    let plugin = Plugin::new(&format!("guest-{lang}"), &guest.wasm);
    let proxy = kind.start(&MeshConfig::single(vec![plugin], [backend.addr]));
    let host = format!("{} / {lang}", kind.name());

    // Headers: the guest read `:path` and added request and response headers.
    let response = client::get(&proxy.url("main", "/hello?x=1"), &[]);
    assert_eq!(response.status, 200, "{host}: {}", response.text());
    let echo = response.echo();
    assert_eq!(echo.header("x-guest-lang"), Some(lang), "{host}");
    assert_eq!(echo.header("x-guest-path"), Some("/hello?x=1"), "{host}");
    assert_eq!(response.header("x-guest-lang"), Some(lang), "{host}");

    // Body: the guest upper-cased the request body in place.
    let response = client::post(&proxy.url("main", "/echo"), &[], "hello from a guest");
    assert_eq!(response.status, 200, "{host}: {}", response.text());
    assert_eq!(response.echo().body, "HELLO FROM A GUEST", "{host}");

    // HTTP call: dispatched while the request waits, answered in the root context (with the
    // root's id, as in Envoy), read back and the request resumed with what it said.
    let response = client::get(&proxy.url("main", "/call"), &[]);
    assert_eq!(response.status, 200, "{host}: {}", response.text());
    let echo = response.echo();
    assert_eq!(echo.path, "/call", "{host}");
    assert_eq!(
        echo.header("x-call-dispatch"),
        None,
        "{host}: dispatch refused"
    );
    assert_eq!(echo.header("x-call-status"), Some("200"), "{host}");
    assert_eq!(echo.header("x-call-backend"), Some(BACKEND), "{host}");
    assert_eq!(
        echo.header("x-call-root"),
        Some("yes"),
        "{host}: the answer should come to the root context with the root's id"
    );
    assert_eq!(
        backend.requests_seen(),
        4,
        "{host}: three requests and the call"
    );

    // Timer: the 20 ms tick the guest asked for in on_configure runs.
    poll_until(
        &format!("{host}: the guest's on_tick runs"),
        Duration::from_secs(10),
        || {
            let response = client::get(&proxy.url("main", "/ticks"), &[]);
            let ticks = response.echo().header("x-guest-ticks").map(str::to_string);
            match ticks.as_deref().and_then(|t| t.parse::<u64>().ok()) {
                Some(n) if n > 0 => Ok(()),
                _ => Err(format!("x-guest-ticks {ticks:?}")),
            }
        },
    );
}
