//! A real Prometheus server (Debian `prometheus`, `/usr/bin/prometheus`) scraping the proxies a
//! test started, queried through its HTTP API as Grafana queries it. Missing Prometheus is a
//! loud failure, never a skip (`cargo xtask test` installs the package).

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::client;
use crate::deadline::poll_until;
use crate::process::{run_dir, Supervised};

/// One scrape job: its name (the `job` label), the admin address and the metrics path.
pub struct Job {
    /// The `job` label.
    pub name: &'static str,
    /// The admin to scrape.
    pub target: SocketAddr,
    /// `/metrics` (wasmesh) or `/stats/prometheus` (Envoy).
    pub path: &'static str,
}

/// A running Prometheus; stopped when dropped.
pub struct Prometheus {
    addr: SocketAddr,
    _process: Supervised,
}

/// How often the test's Prometheus scrapes.
pub const SCRAPE_INTERVAL: Duration = Duration::from_secs(1);

impl Prometheus {
    /// Starts Prometheus scraping `jobs` every [`SCRAPE_INTERVAL`] and waits until it is ready.
    pub fn start(jobs: &[Job]) -> Prometheus {
        let binary = Path::new("/usr/bin/prometheus");
        assert!(
            binary.is_file(),
            "prometheus missing: install the Debian package `prometheus` (cargo xtask test does)"
        );
        let dir = run_dir("prometheus");
        let mut config = format!(
            "global:\n  scrape_interval: {0}s\n  evaluation_interval: {0}s\nscrape_configs:\n",
            SCRAPE_INTERVAL.as_secs()
        );
        for job in jobs {
            config.push_str(&format!(
                "  - job_name: {}\n    metrics_path: {}\n    static_configs:\n      - targets: [\"{}\"]\n",
                job.name, job.path, job.target
            ));
        }
        let config_path = dir.join("prometheus.yml");
        std::fs::write(&config_path, config).expect("writing prometheus.yml");
        let addr = free_port();
        let mut command = Command::new(binary);
        command
            .arg(format!("--config.file={}", config_path.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address={addr}"));
        let mut process = Supervised::spawn("prometheus", dir, command);
        poll_until("Prometheus to be ready", Duration::from_secs(30), || {
            if let Some(status) = process.exited() {
                return Err(format!("it exited ({status}):\n{}", process.logs_tail()));
            }
            match client::shared().get_checked(&format!("http://{addr}/-/ready")) {
                Ok(r) if r.status == 200 => Ok(()),
                Ok(r) => Err(format!("/-/ready answered {}", r.status)),
                Err(e) => Err(e),
            }
        });
        Prometheus {
            addr,
            _process: process,
        }
    }

    /// The result of an instant query evaluated at `time` (Unix seconds): the `data.result`
    /// array. Panics if Prometheus refuses the query.
    pub fn query(&self, expr: &str, time: f64) -> Vec<Value> {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("query", expr)
            .append_pair("time", &format!("{time:.3}"))
            .finish();
        let response = client::get(&format!("http://{}/api/v1/query?{query}", self.addr), &[]);
        let body: Value = serde_json::from_slice(&response.body)
            .unwrap_or_else(|e| panic!("{expr}: not JSON ({e}): {}", response.text()));
        assert_eq!(body["status"], "success", "{expr}: {body}");
        body["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// When Prometheus last scraped `job` successfully (Unix seconds), as of `time`.
    pub fn last_scrape(&self, job: &str, time: f64) -> Option<f64> {
        let result = self.query(&format!("timestamp(up{{job=\"{job}\"}} == 1)"), time);
        result
            .first()
            .and_then(|r| r["value"][1].as_str())
            .and_then(|v| v.parse::<f64>().ok())
    }
}

/// A loopback address no one listens on now (the system's pick, released for Prometheus).
fn free_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address")
}
