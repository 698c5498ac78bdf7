//! The TLS tests' certificates, minted (`wasmesh-certs`) for each test into its own directory
//! under `target/e2e/` (nothing committed): a CA, workload certificates carrying SPIFFE IDs in
//! their URI SAN, and the broken ones the bad-input tests need.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime};

use wasmesh_certs::{Authority, Issued, Workload};

use crate::target_dir;

/// The trust domain of every identity here.
pub const TRUST_DOMAIN: &str = "wasmesh.test";

/// A certificate and its key, as PEM files.
#[derive(Debug, Clone)]
pub struct CertFiles {
    /// The certificate (leaf only; the CA signs it directly).
    pub cert: PathBuf,
    /// Its private key (PKCS#8).
    pub key: PathBuf,
    /// The certificate's DER, for digests.
    pub der: Vec<u8>,
}

/// One test's certificates.
pub struct TestPki {
    /// The directory holding every file.
    pub dir: PathBuf,
    /// The CA both sides trust (`ca.pem`).
    pub ca: PathBuf,
    /// The server: DNS `api.test`, `spiffe://wasmesh.test/ns/default/sa/api`, subject
    /// `CN=api.test,O=wasmesh test`.
    pub server: CertFiles,
    /// A second server certificate, for `other.test` (SNI tests).
    pub other_server: CertFiles,
    /// A client: `spiffe://wasmesh.test/ns/default/sa/web`, subject `CN=web,O=wasmesh test`.
    pub client: CertFiles,
    /// Another client: `spiffe://wasmesh.test/ns/default/sa/batch`.
    pub other_client: CertFiles,
    /// A client signed by a CA nobody trusts.
    pub untrusted_client: CertFiles,
    /// A client whose certificate expired yesterday.
    pub expired_client: CertFiles,
    /// A key that fits none of the certificates.
    pub stray_key: PathBuf,
}

/// The SPIFFE ID of service account `sa` in namespace `default` of [`TRUST_DOMAIN`].
pub fn spiffe_id(sa: &str) -> String {
    wasmesh_certs::spiffe_id(TRUST_DOMAIN, "default", sa)
}

impl TestPki {
    /// Mints everything into a fresh directory.
    pub fn mint() -> TestPki {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let dir = target_dir().join("e2e").join(format!(
            "pki-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("creating the pki directory");
        let ca = Authority::new("wasmesh test CA").expect("minting the CA");
        let rogue = Authority::new("rogue CA").expect("minting the rogue CA");
        let issue = |authority: &Authority, name: &str, workload: Workload| {
            let issued = authority.issue(&workload).expect("issuing a certificate");
            files(&dir, name, issued)
        };
        let now = SystemTime::now();
        let day = Duration::from_secs(86_400);
        TestPki {
            ca: write(&dir, "ca.pem", ca.cert_pem()),
            server: issue(
                &ca,
                "server",
                Workload::server("api.test", spiffe_id("api")),
            ),
            other_server: issue(
                &ca,
                "other",
                Workload::server("other.test", spiffe_id("other")),
            ),
            client: issue(&ca, "client", Workload::client("web", spiffe_id("web"))),
            other_client: issue(&ca, "batch", Workload::client("batch", spiffe_id("batch"))),
            untrusted_client: issue(
                &rogue,
                "untrusted",
                Workload::client("web", spiffe_id("web")),
            ),
            expired_client: issue(
                &ca,
                "expired",
                Workload::client("web", spiffe_id("web")).valid(now - 30 * day, now - day),
            ),
            stray_key: write(
                &dir,
                "stray-key.pem",
                &wasmesh_certs::stray_key_pem().expect("a key"),
            ),
            dir,
        }
    }
}

fn files(dir: &Path, name: &str, issued: Issued) -> CertFiles {
    CertFiles {
        cert: write(dir, &format!("{name}.pem"), &issued.cert_pem),
        key: write(dir, &format!("{name}-key.pem"), &issued.key_pem),
        der: issued.der,
    }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    path
}
