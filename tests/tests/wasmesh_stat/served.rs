//! Against an admin that serves a fixed exposition (a real HTTP server in the test): the
//! table's arithmetic exactly, the window between two scrapes, `--watch`, and the error when no
//! admin answers.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use super::{stat, stat_command, stdout};

/// Like the metrics filter's output at wasmesh's `/metrics`: route `web`/`api` with 100
/// successes and 10 failures (503) — 95 + 5 answered in (1,2] ms, 5 + 5 in (100,200] ms — 3 in
/// flight; route `web`/`static` seen but idle; two lb endpoints. Every count times `scale`.
fn exposition(scale: u64) -> String {
    let route = r#"direction="inbound",authority="web",route="api""#;
    let ok = format!(r#"{route},status_code="200",classification="success""#);
    let bad = format!(r#"{route},status_code="503",classification="failure""#);
    let mut text = String::new();
    let mut line = |l: String| text.push_str(&(l + "\n"));
    line("# TYPE request_in_flight gauge".into());
    line(format!("request_in_flight{{{route}}} 3"));
    line("# TYPE request_total counter".into());
    line(format!("request_total{{{route}}} {}", 113 * scale));
    line(r#"request_total{direction="inbound",authority="web",route="static"} 0"#.into());
    line("# TYPE response_latency_ms histogram".into());
    for (labels, fast, slow) in [(&ok, 95, 5), (&bad, 5, 5)] {
        for (le, count) in [("1", 0), ("2", fast), ("100", fast), ("200", fast + slow)] {
            line(format!(
                "response_latency_ms_bucket{{{labels},le=\"{le}\"}} {}",
                count * scale
            ));
        }
        let total = (fast + slow) * scale;
        line(format!(
            "response_latency_ms_bucket{{{labels},le=\"+Inf\"}} {total}"
        ));
        line(format!(
            "response_latency_ms_sum{{{labels}}} {}",
            total * 20
        ));
        line(format!("response_latency_ms_count{{{labels}}} {total}"));
    }
    line("# TYPE response_total counter".into());
    line(format!("response_total{{{ok}}} {}", 100 * scale));
    line(format!("response_total{{{bad}}} {}", 10 * scale));
    line("# TYPE lb_requests_total counter".into());
    line(format!(
        r#"lb_requests_total{{service="web",endpoint="10.0.0.1:80"}} {}"#,
        30 * scale
    ));
    line(format!(
        r#"lb_requests_total{{service="web",endpoint="10.0.0.2:80"}} {}"#,
        80 * scale
    ));
    line("# TYPE wasmesh_requests_total counter".into());
    line(format!("wasmesh_requests_total {}", 113 * scale));
    text
}

/// A real HTTP/1.1 server on an ephemeral port answering every request with `exposition(n)`,
/// n = 1, 2, 3… per request (counters that grow between scrapes), like an admin would.
fn serve_exposition() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding the fake admin");
    let addr = listener.local_addr().expect("its address");
    let served = Arc::new(AtomicUsize::new(0));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = Vec::new();
            let mut buf = [0; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            let head = String::from_utf8_lossy(&request);
            let reply = if head.starts_with("GET /stats/prometheus ") {
                let n = served.fetch_add(1, Ordering::SeqCst) as u64 + 1;
                let body = exposition(n);
                format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/plain; version=0.0.4\r\n\
                     content-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                )
            } else {
                "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".into()
            };
            let _ = stream.write_all(reply.as_bytes());
        }
    });
    addr
}

#[test]
fn cumulative_table_from_a_served_exposition() {
    let admin = serve_exposition().to_string();
    let output = stat(&["--cumulative", "--admin", &admin]);
    assert!(output.status.success(), "{output:?}");
    // p50: rank 55 of the 100 in (1,2] → 1.55; p95: 4.5 of the 10 in (100,200] → 145;
    // p99: 8.9 of them → 189.
    assert_eq!(
        stdout(&output),
        "AUTHORITY   ROUTE    SUCCESS   REQUESTS   LATENCY_P50   LATENCY_P95   LATENCY_P99   IN_FLIGHT\n\
         web         api      90.91%    110        1.6ms         145ms         189ms         3\n\
         web         static   -         0          -             -             -             0\n"
    );
}

#[test]
fn windowed_table_counts_what_happened_between_two_scrapes() {
    let admin = serve_exposition().to_string();
    let output = stat(&[
        "--interval",
        "500ms",
        "--by",
        "authority",
        "--admin",
        &admin,
    ]);
    assert!(output.status.success(), "{output:?}");
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        [
            "AUTHORITY",
            "SUCCESS",
            "RPS",
            "LATENCY_P50",
            "LATENCY_P95",
            "LATENCY_P99",
            "IN_FLIGHT"
        ],
        "{text}"
    );
    let cells: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(lines.len(), 2, "{text}");
    // The second scrape has 110 more responses than the first, about 500 ms later.
    let rps: f64 = cells[2]
        .trim_end_matches("rps")
        .parse()
        .expect("an RPS cell");
    assert!(
        (150.0..=225.0).contains(&rps),
        "110 responses in ~0.5 s: {text}"
    );
    assert_eq!(
        [cells[0], cells[1], cells[3], cells[4], cells[5], cells[6]],
        ["web", "90.91%", "1.6ms", "145ms", "189ms", "3"],
        "{text}"
    );
}

#[test]
fn endpoint_table_from_a_served_exposition() {
    let admin = serve_exposition().to_string();
    let output = stat(&["--cumulative", "--endpoints", "--admin", &admin]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        stdout(&output),
        "SERVICE   ENDPOINT      REQUESTS   SHARE    FAILURES   IN_FLIGHT   EWMA\n\
         web       10.0.0.1:80   30         27.27%   0          0           -\n\
         web       10.0.0.2:80   80         72.73%   0          0           -\n"
    );
}

#[test]
fn unreachable_admin_is_an_error_naming_it() {
    // A port that was just free: nothing listens there.
    let addr = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("an ephemeral port")
        .to_string();
    let output = stat(&["--cumulative", "--admin", &addr]);
    assert!(!output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("cannot read metrics from the admin at {addr}"))
            && stderr.contains("refused"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty(), "{output:?}");
}

#[test]
fn watch_redraws_every_interval() {
    let admin = serve_exposition().to_string();
    let mut child = stat_command(&["--watch", "--interval", "200ms", "--admin", &admin])
        .stdout(Stdio::piped())
        .spawn()
        .expect("starting wasmesh stat --watch");
    let out = child.stdout.take().expect("piped stdout");
    let (send, screens) = mpsc::channel();
    std::thread::spawn(move || {
        // Each screen starts by clearing the terminal; send every line with how many came.
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if send.send(line).is_err() {
                break;
            }
        }
    });
    let mut cleared = 0;
    let mut seen = Vec::new();
    while cleared < 3 {
        let line = screens
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("fewer than 3 screens in 10 s: {seen:#?}"));
        if line.starts_with("\x1b[2J\x1b[H") {
            cleared += 1;
            assert!(
                line.contains("AUTHORITY") && line.contains(" RPS "),
                "{line:?}"
            );
        }
        seen.push(line);
    }
    child.kill().expect("stopping wasmesh stat --watch");
    let _ = child.wait();
    // Every screen shows the window's rate: the served counters grow by 110 per scrape.
    let api: Vec<&String> = seen
        .iter()
        .filter(|l| l.starts_with("web         api"))
        .collect();
    assert!(api.len() >= 2, "{seen:#?}");
    assert!(
        api.iter()
            .all(|l| l.contains("90.91%") && l.contains("rps")),
        "{seen:#?}"
    );
}
