//! The README's quick start, run as a new user would: `cargo xtask demo` as a process, every
//! command the quick start shows (read from the README itself, so a command added there without
//! a test fails here), what the README says each shows, then Ctrl-C.
//!
//! The demo runs on the debug `wasmesh` the other tests use (`WASMESH_BIN`), so this test does
//! not spend minutes on a release build; everything else is `cargo xtask demo` as the README has
//! it, on its fixed ports (`127.0.0.1:8081-8083`, `:10000`, admin `:9901`).

use std::io::{BufRead, BufReader, Read};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use wasmesh_tests::{build_filters, poll_until, wasmesh_bin, workspace_root};

/// The line `cargo xtask demo` prints once wasmesh is ready.
const RUNNING: &str = "wasmesh demo is running";
/// Building nothing (the test rig built it all) and compiling four modules in a debug host.
const READY_TIMEOUT: Duration = Duration::from_secs(180);
/// Ctrl-C to a clean exit.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// The quick start's commands, as the README writes them.
const HELLO: &str = "curl -i http://127.0.0.1:10000/hello";
const BURST: &str =
    "for i in $(seq 40); do curl -s -o /dev/null -w '%{http_code} ' http://127.0.0.1:10000/; done";
const METRICS: &str = "curl http://127.0.0.1:9901/metrics";
/// The live view the demo's usage and the README point a browser at.
const LIVE_VIEW: &str = "http://127.0.0.1:9901/ui";
const STAT: &str = "cargo run -p wasmesh -- stat --endpoints";

#[test]
fn readme_quick_start() {
    let shown = quick_start_commands();
    let mut tested = vec![HELLO, BURST, METRICS, STAT];
    tested.sort_unstable();
    assert_eq!(
        shown, tested,
        "the README's quick start shows these commands; this test runs exactly those"
    );

    // What the demo needs built, built first, so its own cargo calls are no-ops.
    build_filters();
    let demo = Demo::start();
    let usage = demo.wait_for_line(RUNNING, READY_TIMEOUT);
    for command in [HELLO, METRICS, STAT] {
        assert!(
            usage.contains(command),
            "the demo's usage does not suggest `{command}`:\n{usage}"
        );
    }

    check_hello(&sh(HELLO));
    let started = std::time::Instant::now();
    let burst = sh(BURST);
    check_burst(&burst, started.elapsed());
    check_metrics(&sh(METRICS));
    check_endpoints(&sh(STAT));
    assert!(
        usage.contains(LIVE_VIEW),
        "the demo's usage does not name the live view {LIVE_VIEW}:\n{usage}"
    );
    check_live_view();

    let output = demo.interrupt();
    assert!(
        output.contains("stopping wasmesh and the backends"),
        "Ctrl-C did not say it stops everything:\n{output}"
    );
    for port in [10000, 9901, 8081, 8082, 8083] {
        assert!(
            TcpStream::connect(("127.0.0.1", port)).is_err(),
            "127.0.0.1:{port} still accepts after Ctrl-C"
        );
    }
    for bad in ["VM failed", "panicked"] {
        assert!(
            !output.contains(bad),
            "the demo's log has `{bad}`:\n{output}"
        );
    }
}

/// `curl -i .../hello`: 200, `x-served-by: wasmesh`, the backend's echo with `x-wasmesh: demo`,
/// `x-backend` naming the backend `lb` picked and `x-wasmesh-endpoint` its address.
fn check_hello(output: &str) {
    let lower = output.to_ascii_lowercase();
    assert!(
        output.starts_with("HTTP/1.1 200"),
        "/hello is not 200:\n{output}"
    );
    assert!(
        lower.contains("x-served-by: wasmesh"),
        "no x-served-by:\n{output}"
    );
    let backend = header(&lower, "x-backend").unwrap_or_else(|| panic!("no x-backend:\n{output}"));
    let endpoint = header(&lower, "x-wasmesh-endpoint")
        .unwrap_or_else(|| panic!("no x-wasmesh-endpoint:\n{output}"));
    let expected_port = match backend.as_str() {
        "b1" => "8081",
        "b2" => "8082",
        "b3" => "8083",
        other => panic!("x-backend names {other:?}, not one of b1..b3:\n{output}"),
    };
    assert_eq!(endpoint, format!("127.0.0.1:{expected_port}"), "{output}");
    let body = output
        .split_once("\r\n\r\n")
        .map(|(_, body)| body)
        .unwrap_or_else(|| panic!("no body:\n{output}"));
    let echo: serde_json::Value = serde_json::from_str(body)
        .unwrap_or_else(|e| panic!("the body is not the backend's JSON echo ({e}):\n{output}"));
    assert!(
        echo.to_string().contains(r#""x-wasmesh":"demo""#),
        "the echo lacks x-wasmesh: demo:\n{output}"
    );
}

/// The burst: 200s first, then `429` once the bucket (burst 20, 10/s) is empty. `took`: how
/// long the 40 requests took, during which the bucket refilled.
fn check_burst(output: &str, took: std::time::Duration) {
    let codes: Vec<&str> = output.split_whitespace().collect();
    assert_eq!(codes.len(), 40, "40 status codes expected: {output}");
    assert!(
        codes.iter().all(|c| *c == "200" || *c == "429"),
        "only 200 and 429 expected: {output}"
    );
    let allowed = codes.iter().filter(|c| **c == "200").count();
    // At most 20 tokens (the burst) plus what refills (10/s) while curl runs 40 times: the
    // burst starts with 200s and runs out; a refilled token may let a later one through. A
    // loaded machine runs the 40 curls slower, and more tokens refill meanwhile.
    assert!(
        codes[..15].iter().all(|c| *c == "200"),
        "the burst's first requests were refused: {output}"
    );
    let refilled = (took.as_secs_f64() * 10.0).ceil() as usize;
    assert!(
        allowed >= 15 && allowed <= 20 + refilled + 1,
        "{allowed} of 40 allowed in {took:?}, expected 20 plus at most {refilled} refilled: {output}"
    );
    if 20 + refilled + 1 < codes.len() {
        assert!(
            codes.contains(&"429"),
            "none of the 40 refused in {took:?}: {output}"
        );
    }
}

/// `/metrics`: wasmesh's counters and the filters' metrics the README names, and no VM failed.
fn check_metrics(output: &str) {
    for name in [
        "wasmesh_requests_total",
        "request_total",
        "response_latency_ms",
        "lb_requests_total",
        "ratelimit_allowed_total",
    ] {
        assert!(
            output.lines().any(|line| line.starts_with(name)),
            "/metrics has no {name}:\n{output}"
        );
    }
    let failures = output
        .lines()
        .find_map(|line| line.strip_prefix("wasmesh_vm_failures_total "))
        .unwrap_or_else(|| panic!("/metrics has no wasmesh_vm_failures_total:\n{output}"));
    assert_eq!(failures.trim(), "0", "a VM failed during the quick start");
}

/// The live view serves its page, and its data names the demo's plugins, each with its module's
/// digest (the page itself is tested in Chromium in `live_view.rs`).
fn check_live_view() {
    let page = sh(&format!("curl -s {LIVE_VIEW}"));
    assert!(page.contains("<title>wasmesh live view</title>"), "{page}");
    let data: serde_json::Value =
        serde_json::from_str(&sh(&format!("curl -s {LIVE_VIEW}/data"))).expect("/ui/data is JSON");
    let plugins: Vec<&str> = data["plugins"]
        .as_array()
        .map(|p| p.iter().filter_map(|p| p["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(plugins, ["metrics", "headers", "ratelimit", "lb"], "{data}");
    for plugin in data["plugins"].as_array().into_iter().flatten() {
        let sha256 = plugin["sha256"].as_str().unwrap_or_default();
        assert_eq!(sha256.len(), 64, "{plugin}");
    }
}

/// `wasmesh stat --endpoints`: one row per demo backend, under the `lb` filter's service.
fn check_endpoints(output: &str) {
    assert!(output.starts_with("SERVICE"), "no table header:\n{output}");
    for port in ["8081", "8082", "8083"] {
        let endpoint = format!("127.0.0.1:{port}");
        assert!(
            output
                .lines()
                .any(|line| line.starts_with("demo") && line.contains(&endpoint)),
            "no row for {endpoint} of service demo:\n{output}"
        );
    }
}

/// The value of header `name` in `curl -i` output (already lowercased).
fn header(output: &str, name: &str) -> Option<String> {
    output.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == name).then(|| value.trim().to_string())
    })
}

/// Runs `command` with `sh` in the root, as a user would type it; its stdout, or a panic with
/// everything it printed.
fn sh(command: &str) -> String {
    let output = Command::new("sh")
        .arg("-c")
        .arg(command)
        .current_dir(workspace_root())
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{command}`: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "`{command}` failed ({}):\n{stdout}{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// Every command the README's "On a fresh machine" section shows for trying the demo: lines of
/// its code blocks and its inline code that start with `curl`, `for ` or `cargo run`.
fn quick_start_commands() -> Vec<&'static str> {
    let readme =
        std::fs::read_to_string(workspace_root().join("README.md")).expect("reading README.md");
    let start = readme
        .find("## On a fresh machine")
        .expect("the README has an 'On a fresh machine' section");
    let section = &readme[start..];
    let end = section[3..].find("\n## ").map_or(section.len(), |i| i + 3);
    let section = &section[..end];
    let mut candidates: Vec<String> = section.lines().map(|l| l.trim().to_string()).collect();
    candidates.extend(section.split('`').skip(1).step_by(2).map(str::to_string));
    let mut found: Vec<&'static str> = [HELLO, BURST, METRICS, STAT]
        .into_iter()
        .filter(|known| candidates.iter().any(|c| c == known))
        .collect();
    let unknown: Vec<&String> = candidates
        .iter()
        .filter(|c| c.starts_with("curl ") || c.starts_with("for ") || c.starts_with("cargo run"))
        .filter(|c| ![HELLO, BURST, METRICS, STAT].contains(&c.as_str()))
        .collect();
    assert!(
        unknown.is_empty(),
        "the README's quick start shows commands this test does not run: {unknown:?}"
    );
    found.sort_unstable();
    found
}

/// `cargo xtask demo` in a process group of its own, like a shell's foreground job, with its
/// output collected line by line.
struct Demo {
    child: Child,
    lines: Receiver<String>,
    output: Arc<Mutex<String>>,
    readers: Vec<thread::JoinHandle<()>>,
}

impl Demo {
    fn start() -> Demo {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut command = Command::new(cargo);
        command
            .args(["xtask", "demo"])
            .current_dir(workspace_root())
            .env("WASMESH_BIN", wasmesh_bin())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let mut child = command.spawn().expect("starting cargo xtask demo");
        let output = Arc::new(Mutex::new(String::new()));
        let (sender, lines) = mpsc::channel();
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        let streams: [Box<dyn Read + Send>; 2] = [Box::new(stdout), Box::new(stderr)];
        let readers = streams
            .into_iter()
            .map(|stream| {
                let output = output.clone();
                let sender = sender.clone();
                thread::spawn(move || {
                    for line in BufReader::new(stream).lines().map_while(Result::ok) {
                        let mut all = output.lock().unwrap();
                        all.push_str(&line);
                        all.push('\n');
                        let _ = sender.send(line);
                    }
                })
            })
            .collect();
        Demo {
            child,
            lines,
            output,
            readers,
        }
    }

    /// Waits for a line containing `wanted`; returns everything printed so far.
    fn wait_for_line(&self, wanted: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(wanted) => {
                    // The usage block follows the line; give the printer a moment to finish it.
                    return poll_until("the demo's usage", Duration::from_secs(5), || {
                        let all = self.output.lock().unwrap().clone();
                        if all.contains("Ctrl-C stops everything.") {
                            Ok(all)
                        } else {
                            Err("usage not complete".into())
                        }
                    });
                }
                Ok(_) => {}
                Err(_) => panic!(
                    "no `{wanted}` within {timeout:?}; the demo printed:\n{}",
                    self.output.lock().unwrap()
                ),
            }
        }
    }

    /// Sends SIGINT to the demo's process group, as Ctrl-C in a terminal does, and waits for a
    /// successful exit; returns everything it printed.
    fn interrupt(mut self) -> String {
        assert!(self.signal("-INT"), "kill -INT failed");
        let status = poll_until("the demo to exit after Ctrl-C", STOP_TIMEOUT, || {
            self.child
                .try_wait()
                .map_err(|e| e.to_string())?
                .ok_or_else(|| "still running".to_string())
        });
        // The readers end when the last holder of the pipes (xtask, wasmesh) is gone.
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
        let output = self.output.lock().unwrap().clone();
        assert!(
            status.success(),
            "the demo exited with {status} after Ctrl-C:\n{output}"
        );
        output
    }
}

impl Demo {
    /// `kill <signal> -- -<group>`: the signal to every process of the demo's group.
    fn signal(&self, signal: &str) -> bool {
        Command::new("kill")
            .args([signal, "--", &format!("-{}", self.child.id())])
            .status()
            .is_ok_and(|status| status.success())
    }
}

impl Drop for Demo {
    /// A failing test still stops the demo: Ctrl-C first, so xtask stops wasmesh (which runs in
    /// a process group of its own), then SIGKILL if that did not end it.
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_some() {
            return;
        }
        self.signal("-INT");
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            if self.child.try_wait().ok().flatten().is_some() {
                return;
            }
            thread::sleep(Duration::from_millis(50));
        }
        self.signal("-KILL");
        let _ = self.child.wait();
    }
}
