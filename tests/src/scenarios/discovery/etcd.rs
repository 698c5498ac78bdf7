//! A real etcd (Debian's `etcd-server`, installed by `cargo xtask test`) on ephemeral loopback
//! ports with a data directory in the test's run directory; killed on drop. The tests write to
//! it through the same JSON gateway the filter reads (`/v3/kv/put`, `/v3/kv/deleterange`).

use std::net::{SocketAddr, TcpListener};
use std::process::Command;
use std::time::Duration;

use serde_json::json;
use wasmesh_common::discovery::base64;

use crate::client;
use crate::poll_until;
use crate::process::{run_dir, Supervised};

/// A running single-member etcd.
pub struct Etcd {
    /// The client URL's address (what the proxy's `registry` cluster points at).
    pub addr: SocketAddr,
    process: Option<Supervised>,
}

/// A free loopback port: bound then released (etcd cannot report a port it picked itself).
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding a probe port");
    listener.local_addr().expect("its address").port()
}

impl Etcd {
    /// Starts etcd and waits (up to 20 s) until its gateway answers a range request.
    pub fn start() -> Self {
        let (client_port, peer_port) = (free_port(), free_port());
        let dir = run_dir("etcd");
        let client_url = format!("http://127.0.0.1:{client_port}");
        let peer_url = format!("http://127.0.0.1:{peer_port}");
        let mut command = Command::new("etcd");
        command
            .arg("--name=test")
            .arg(format!("--data-dir={}", dir.join("data").display()))
            .arg(format!("--listen-client-urls={client_url}"))
            .arg(format!("--advertise-client-urls={client_url}"))
            .arg(format!("--listen-peer-urls={peer_url}"))
            .arg(format!("--initial-advertise-peer-urls={peer_url}"))
            .arg(format!("--initial-cluster=test={peer_url}"))
            .arg("--log-level=warn");
        let process = Supervised::spawn("etcd", dir, command);
        let etcd = Self {
            addr: SocketAddr::from(([127, 0, 0, 1], client_port)),
            process: Some(process),
        };
        poll_until("etcd to answer", Duration::from_secs(20), || {
            let body = json!({ "key": base64::encode(b"/") }).to_string();
            let url = format!("http://{}/v3/kv/range", etcd.addr);
            match client::shared().send(http::Method::POST, &url, &[], body) {
                Ok(response) if response.status == 200 => Ok(()),
                Ok(response) => Err(format!("status {}", response.status)),
                Err(e) => Err(e),
            }
        });
        etcd
    }

    /// `etcdctl put key value`.
    pub fn put(&self, key: &str, value: &str) {
        let body = json!({ "key": base64::encode(key.as_bytes()), "value": base64::encode(value.as_bytes()) });
        self.call("/v3/kv/put", body);
    }

    /// `etcdctl del key`.
    pub fn delete(&self, key: &str) {
        self.call(
            "/v3/kv/deleterange",
            json!({ "key": base64::encode(key.as_bytes()) }),
        );
    }

    /// Kills etcd: the registry is down.
    pub fn stop(&mut self) {
        self.process = None;
    }

    fn call(&self, path: &str, body: serde_json::Value) {
        let response = client::post(
            &format!("http://{}{path}", self.addr),
            &[],
            body.to_string(),
        );
        assert_eq!(response.status, 200, "etcd {path}: {}", response.text());
    }
}
