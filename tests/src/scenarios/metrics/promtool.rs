//! `promtool check metrics` (Prometheus's own linter and parser) on what each host serves with
//! the filter loaded and traffic through it: wasmesh's `/metrics`, Envoy's `/stats/prometheus`.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::json;

use super::Rig;
use crate::ProxyKind;

/// Where the Debian `prometheus` package puts it (`cargo xtask test` installs it).
const PROMTOOL: &str = "/usr/bin/promtool";

/// After a mix of 200s, 503s and a hang-up, the host's exposition passes `promtool check
/// metrics`. A missing promtool is a failure, never a skip.
pub fn promtool_accepts_the_exposition(kind: ProxyKind) {
    assert!(
        Path::new(PROMTOOL).is_file(),
        "{PROMTOOL} missing: install the Debian package `prometheus` (cargo xtask test does)"
    );
    let host = kind.name();
    let rig = Rig::start(kind, json!({}));
    for path in ["/users/1", "/status/503", "/status/404", "/delay?ms=5"] {
        rig.get(path);
    }
    let path = match kind {
        ProxyKind::Envoy => "/stats/prometheus",
        ProxyKind::Wasmesh => "/metrics",
    };
    // Envoy shows histograms after a flush: wait until ours is there.
    let text = crate::poll_until(
        &format!("{host}: response_latency_ms in {path}"),
        std::time::Duration::from_secs(10),
        || {
            let text = rig.proxy.admin_get(path).text();
            if text.contains("response_latency_ms_bucket") && text.contains("request_total") {
                Ok(text)
            } else {
                Err(text)
            }
        },
    );
    let mut child = Command::new(PROMTOOL)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("running {PROMTOOL}: {e}"));
    child
        .stdin
        .take()
        .expect("promtool's stdin")
        .write_all(text.as_bytes())
        .expect("feeding promtool");
    let output = child.wait_with_output().expect("waiting for promtool");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // Exit 1 is a parse error (the exposition is broken); 3 is lint problems only.
    let code = output.status.code();
    assert!(
        matches!(code, Some(0) | Some(LINT_PROBLEMS)),
        "{host}: promtool check metrics on {path} failed ({}):\n{report}\n--- exposition ---\n{text}",
        output.status
    );
    let unexpected: Vec<&str> = report
        .lines()
        .filter(|line| !line.trim().is_empty() && !accepted(kind, line))
        .collect();
    assert!(
        unexpected.is_empty(),
        "{host}: promtool check metrics on {path}:\n{}\n--- exposition ---\n{text}",
        unexpected.join("\n")
    );
}

/// promtool's exit status when it parsed everything and found only lint problems.
const LINT_PROBLEMS: i32 = 3;

/// The filter's metric families.
const FAMILIES: [&str; 5] = [
    "request_total",
    "response_total",
    "response_latency_ms",
    "request_in_flight",
    "endpoint_response_total",
];

/// The lint problems we accept, each a known limit rather than a defect:
/// - in Envoy, `<family> no help text`: the proxy-wasm metrics API has no help text to give
///   (wasmesh writes a generic one, so there it is a defect).
/// - `response_latency_ms … abbreviated units`: Linkerd's name, kept so dashboards and
///   `linkerd viz`-trained users find it.
/// - in Envoy, anything about Envoy's own metrics (no help text anywhere, counters without
///   `_total`): not ours to fix.
fn accepted(kind: ProxyKind, line: &str) -> bool {
    let family = line.split_whitespace().next().unwrap_or_default();
    if !FAMILIES.contains(&family) {
        return kind == ProxyKind::Envoy;
    }
    let problem = line[family.len()..].trim();
    (kind == ProxyKind::Envoy && problem == "no help text")
        || (family == "response_latency_ms"
            && problem == "metric names should not contain abbreviated units")
}
