//! Whether any wasm VM of a proxy failed: checked by [`crate::Proxy`] when a scenario ends, so
//! no scenario passes while a filter traps unnoticed on some of its requests.
//!
//! wasmesh counts failures (`wasmesh_vm_failures_total` at `/metrics`) and logs each one
//! (`VM failed, it will be rebuilt`). Envoy 1.40 has no counter for them (its `wasm.<plugin>.*`
//! stats count only `FAIL_RELOAD` reloads), so its log is the record: V8 reports every call that
//! traps as `Function: proxy_on_... failed: ...` from `wasm_vm.cc`.

use crate::client::Client;
use crate::proxy::ProxyKind;

/// What shows that a VM failed, found in a proxy's log or admin. `alive` says whether the
/// process is still running, asked again when its admin cannot be read (a scenario that stops
/// the proxy may race the check; its log is then the whole record).
pub(crate) fn failures(
    kind: ProxyKind,
    admin: std::net::SocketAddr,
    mut alive: impl FnMut() -> bool,
    logs: impl Fn() -> String,
) -> Vec<String> {
    let mut found = Vec::new();
    if kind == ProxyKind::Wasmesh && alive() {
        match failure_counter(admin) {
            Ok(0) => {}
            Ok(n) => found.push(format!("wasmesh_vm_failures_total {n}")),
            // A proxy told to stop (a test's SIGTERM) may reset the admin's connection on its
            // way out: only one that stays up without answering is a failure.
            Err(_) if exits_soon(&mut alive) => {}
            Err(e) => found.push(format!("cannot read wasmesh_vm_failures_total: {e}")),
        }
    }
    found.splice(
        0..0,
        logs()
            .lines()
            .filter(|line| is_failure_line(kind, line))
            .map(str::to_string),
    );
    found
}

/// Whether the process is gone, or goes within two seconds.
fn exits_soon(alive: &mut impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    while alive() {
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    true
}

/// A log line that reports a failed VM.
fn is_failure_line(kind: ProxyKind, line: &str) -> bool {
    match kind {
        ProxyKind::Wasmesh => line.contains("VM failed"),
        ProxyKind::Envoy => line.contains("wasm_vm.cc") && line.contains(" failed: "),
    }
}

/// wasmesh's `wasmesh_vm_failures_total`.
fn failure_counter(admin: std::net::SocketAddr) -> Result<u64, String> {
    let client = Client::http1().with_timeout(std::time::Duration::from_secs(5));
    let response = client.get_checked(&format!("http://{admin}/metrics"))?;
    let text = response.text();
    text.lines()
        .find_map(|line| line.strip_prefix("wasmesh_vm_failures_total "))
        .ok_or_else(|| "not in /metrics".to_string())?
        .trim()
        .parse()
        .map_err(|e| format!("{e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envoys_trap_line_is_a_failure() {
        let line = "[2026-12-04 17:10:21.445][13446][error][wasm] \
                    [source/extensions/common/wasm/wasm_vm.cc:38] Function: \
                    proxy_on_request_headers failed: Uncaught RuntimeError: unreachable";
        assert!(is_failure_line(ProxyKind::Envoy, line));
        let plugin_log = "[2026-12-04 17:10:21.445][13446][info][wasm] \
                          [source/extensions/common/wasm/context.cc:1160] wasm log m: failed: 3";
        assert!(!is_failure_line(ProxyKind::Envoy, plugin_log));
    }

    #[test]
    fn wasmesh_failure_line_is_a_failure() {
        let line =
            "[2026-12-04T17:10:21Z ERROR wasmesh_host::runtime::plugin] plugin \"metrics\": \
                    VM failed, it will be rebuilt: trap";
        assert!(is_failure_line(ProxyKind::Wasmesh, line));
        assert!(!is_failure_line(ProxyKind::Wasmesh, "plugin \"m\" started"));
    }
}
