//! A real OCI registry for the tests: Debian's `docker-registry` (the CNCF distribution
//! registry, installed by `cargo xtask test`) on an ephemeral loopback port with filesystem
//! storage in its run directory, spoken to with plain registry API calls (the Distribution
//! spec's monolithic blob upload and manifest PUT). A missing registry is a loud failure.
//! [`secured`] serves the same storage over TLS, asking for a password or a token.

pub mod secured;
pub mod token_service;

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use hyper::Method;

use crate::client::{self, Response};
use crate::deadline::poll_until;
use crate::process::{run_dir, Supervised};

/// The registry's binary.
const BINARY: &str = "/usr/bin/docker-registry";

/// A running registry; stopped when dropped.
pub struct OciRegistry {
    /// Where it listens (plain HTTP).
    pub addr: SocketAddr,
    /// Where it keeps what was pushed.
    storage: PathBuf,
    _process: Supervised,
}

impl OciRegistry {
    /// Starts a registry and waits until `/v2/` answers.
    pub fn start() -> OciRegistry {
        let dir = run_dir("oci-registry");
        let storage = dir.join("storage");
        let (addr, mut process) = spawn(dir, &storage, "  delete:\n    enabled: true\n", "");
        let url = format!("http://{addr}/v2/");
        poll_until("the registry to answer", Duration::from_secs(20), || {
            if let Some(status) = process.exited() {
                return Err(format!("it exited ({status}):\n{}", process.logs_tail()));
            }
            match client::shared().get_checked(&url) {
                Ok(response) if response.status == 200 => Ok(()),
                Ok(response) => Err(format!("status {}", response.status)),
                Err(e) => Err(e),
            }
        });
        OciRegistry {
            addr,
            storage,
            _process: process,
        }
    }

    /// Uploads `blob` (monolithic upload) into `repository`; panics unless it is accepted.
    pub fn push_blob(&self, repository: &str, blob: &[u8], digest: &str) {
        let start = self.send(
            Method::POST,
            &format!("/v2/{repository}/blobs/uploads/"),
            &[],
            Vec::new(),
        );
        assert_eq!(start.status, 202, "starting an upload: {}", start.text());
        let location = start
            .header("location")
            .expect("an upload location")
            .to_string();
        let separator = if location.contains('?') { '&' } else { '?' };
        let url = if location.starts_with("http") {
            format!("{location}{separator}digest=sha256:{digest}")
        } else {
            format!(
                "http://{}{location}{separator}digest=sha256:{digest}",
                self.addr
            )
        };
        let put = client::shared()
            .send(
                Method::PUT,
                &url,
                &[("content-type", "application/octet-stream")],
                blob.to_vec(),
            )
            .unwrap_or_else(|e| panic!("PUT {url}: {e}"));
        assert_eq!(put.status, 201, "uploading blob {digest}: {}", put.text());
    }

    /// Puts `manifest` (of `media_type`) as `reference` (a tag); returns the digest the
    /// registry computed (`Docker-Content-Digest`).
    pub fn push_manifest(
        &self,
        repository: &str,
        reference: &str,
        manifest: &[u8],
        media_type: &str,
    ) -> String {
        let response = self.send(
            Method::PUT,
            &format!("/v2/{repository}/manifests/{reference}"),
            &[("content-type", media_type)],
            manifest.to_vec(),
        );
        assert_eq!(
            response.status,
            201,
            "putting the manifest: {}",
            response.text()
        );
        response
            .header("docker-content-digest")
            .expect("a Docker-Content-Digest")
            .to_string()
    }

    /// `GET /v2/{repository}/manifests/{reference}` accepting `media_type`.
    pub fn manifest(&self, repository: &str, reference: &str, media_type: &str) -> Response {
        self.send(
            Method::GET,
            &format!("/v2/{repository}/manifests/{reference}"),
            &[("accept", media_type)],
            Vec::new(),
        )
    }

    /// `GET /v2/{repository}/blobs/sha256:{digest}`.
    pub fn blob(&self, repository: &str, digest: &str) -> Response {
        self.send(
            Method::GET,
            &format!("/v2/{repository}/blobs/sha256:{digest}"),
            &[],
            Vec::new(),
        )
    }

    fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Response {
        let url = format!("http://{}{path}", self.addr);
        client::shared()
            .send(method.clone(), &url, headers, body)
            .unwrap_or_else(|e| panic!("{method} {url}: {e}"))
    }
}

/// Starts a registry in `dir` on a free loopback port, keeping images in `storage`;
/// `storage_extra` is YAML added to its `storage` section, `rest` YAML that follows the `http`
/// section's `addr` line (more of that section, indented, then other sections).
fn spawn(
    dir: PathBuf,
    storage: &Path,
    storage_extra: &str,
    rest: &str,
) -> (SocketAddr, Supervised) {
    assert!(
        Path::new(BINARY).exists(),
        "{BINARY} is missing: run `cargo xtask test` (or apt-get install docker-registry)"
    );
    let addr = {
        let probe = TcpListener::bind("127.0.0.1:0").expect("a free port");
        probe.local_addr().expect("its address")
    };
    let config = format!(
        "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n{storage_extra}http:\n  addr: {addr}\n{rest}",
        storage.display()
    );
    let config_path = dir.join("config.yml");
    std::fs::write(&config_path, config).expect("writing the registry's config");
    let mut command = Command::new(BINARY);
    command.arg("serve").arg(&config_path);
    (addr, Supervised::spawn("oci-registry", dir, command))
}
