//! The TLS tests' certificates, minted with rcgen for each test into its own directory under
//! `target/e2e/` (nothing committed): a CA, workload certificates carrying SPIFFE IDs in their
//! URI SAN as Linkerd and Istio issue them, and the broken ones the bad-input tests need.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};

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
    /// A client signed by a CA nobody trusts.
    pub untrusted_client: CertFiles,
    /// A client whose certificate expired yesterday.
    pub expired_client: CertFiles,
    /// `key.pem` of another key pair: fits none of the certificates.
    pub stray_key: PathBuf,
}

/// The SPIFFE ID of service account `sa` in namespace `default`.
pub fn spiffe_id(sa: &str) -> String {
    format!("spiffe://{TRUST_DOMAIN}/ns/default/sa/{sa}")
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
        let ca_key = KeyPair::generate().expect("CA key");
        let trusted = ca_params("wasmesh test CA");
        let ca_cert = trusted.self_signed(&ca_key).expect("CA certificate");
        let ca = write(&dir, "ca.pem", &ca_cert.pem());
        let issuer = Issuer::new(trusted, ca_key);
        let rogue_key = KeyPair::generate().expect("rogue CA key");
        let rogue = Issuer::new(ca_params("rogue CA"), rogue_key);
        let now = SystemTime::now();
        let day = Duration::from_secs(86_400);
        let server = leaf(&dir, "server", &issuer, Leaf::server("api.test", "api"));
        let other_server = leaf(&dir, "other", &issuer, Leaf::server("other.test", "other"));
        let client = leaf(&dir, "client", &issuer, Leaf::client("web"));
        let untrusted_client = leaf(&dir, "untrusted", &rogue, Leaf::client("web"));
        let mut expired = Leaf::client("web");
        expired.validity = Some((now - 30 * day, now - day));
        let expired_client = leaf(&dir, "expired", &issuer, expired);
        let stray = KeyPair::generate().expect("stray key");
        let stray_key = write(&dir, "stray-key.pem", &stray.serialize_pem());
        TestPki {
            dir,
            ca,
            server,
            other_server,
            client,
            untrusted_client,
            expired_client,
            stray_key,
        }
    }
}

fn ca_params(name: &str) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let mut subject = DistinguishedName::new();
    subject.push(DnType::OrganizationName, "wasmesh test");
    subject.push(DnType::CommonName, name);
    params.distinguished_name = subject;
    params
}

/// What a workload certificate says.
struct Leaf {
    common_name: String,
    dns: Option<String>,
    service_account: String,
    server: bool,
    validity: Option<(SystemTime, SystemTime)>,
}

impl Leaf {
    fn server(dns: &str, service_account: &str) -> Leaf {
        Leaf {
            common_name: dns.to_string(),
            dns: Some(dns.to_string()),
            service_account: service_account.to_string(),
            server: true,
            validity: None,
        }
    }

    fn client(service_account: &str) -> Leaf {
        Leaf {
            common_name: service_account.to_string(),
            dns: None,
            service_account: service_account.to_string(),
            server: false,
            validity: None,
        }
    }
}

fn leaf(dir: &Path, name: &str, issuer: &Issuer<'_, KeyPair>, leaf: Leaf) -> CertFiles {
    let mut params = CertificateParams::default();
    let mut subject = DistinguishedName::new();
    subject.push(DnType::OrganizationName, "wasmesh test");
    subject.push(DnType::CommonName, leaf.common_name.as_str());
    params.distinguished_name = subject;
    if let Some(dns) = &leaf.dns {
        params
            .subject_alt_names
            .push(SanType::DnsName(dns.as_str().try_into().expect("DNS name")));
    }
    params.subject_alt_names.push(SanType::URI(
        spiffe_id(&leaf.service_account)
            .as_str()
            .try_into()
            .expect("SPIFFE URI"),
    ));
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![if leaf.server {
        ExtendedKeyUsagePurpose::ServerAuth
    } else {
        ExtendedKeyUsagePurpose::ClientAuth
    }];
    if let Some((from, until)) = leaf.validity {
        params.not_before = from.into();
        params.not_after = until.into();
    }
    let key = KeyPair::generate().expect("leaf key");
    let cert = params.signed_by(&key, issuer).expect("leaf certificate");
    CertFiles {
        cert: write(dir, &format!("{name}.pem"), &cert.pem()),
        key: write(dir, &format!("{name}-key.pem"), &key.serialize_pem()),
        der: cert.der().to_vec(),
    }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    path
}
