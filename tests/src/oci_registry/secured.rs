//! A second registry on a first one's storage (what was pushed there can be pulled here, read
//! only), serving HTTPS with a certificate for 127.0.0.1 from a CA minted for it, and asking
//! for credentials the way private registries do: a password (the registry's htpasswd, Basic
//! auth) or a token from a token service ([`TokenService`], Bearer auth).

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::Duration;

use wasmesh_certs::{Authority, Workload};

use super::token_service::TokenService;
use super::{spawn, OciRegistry};
use crate::deadline::poll_until;
use crate::process::{run_dir, Supervised};

/// How the registry asks for credentials.
pub enum Access {
    /// It does not: anyone may pull.
    Open,
    /// A password for `user` with each request (htpasswd, bcrypt).
    Password {
        /// The one user.
        user: String,
        /// Its password.
        password: String,
    },
    /// A token from a token service, which gives anyone `pull` when `user` is `None`, only
    /// that user (with its password) otherwise.
    Token {
        /// The one user and password the token service accepts, if it asks.
        user: Option<(String, String)>,
    },
}

/// The running registry; stopped when dropped.
pub struct SecuredRegistry {
    /// Where it listens (HTTPS).
    pub addr: SocketAddr,
    /// The CA that signed its certificate.
    pub ca: PathBuf,
    /// Its token service, for [`Access::Token`].
    pub token_service: Option<TokenService>,
    _process: Supervised,
}

impl OciRegistry {
    /// Serves this registry's images over HTTPS, asking for `access`.
    pub fn secured(&self, access: Access) -> SecuredRegistry {
        let dir = run_dir("oci-registry-secured");
        let authority = Authority::new("registry test CA").expect("minting the registry's CA");
        let loopback = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let issued = authority
            .issue(
                &Workload::server("registry.test", "spiffe://registry.test/registry".into())
                    .ip(loopback),
            )
            .expect("a certificate for the registry");
        let write = |name: &str, text: &str| {
            let path = dir.join(name);
            std::fs::write(&path, text).expect("writing a registry file");
            path
        };
        let ca = write("ca.pem", authority.cert_pem());
        let cert = write("registry.pem", &issued.cert_pem);
        let key = write("registry-key.pem", &issued.key_pem);
        let mut rest = format!(
            "  tls:\n    certificate: {}\n    key: {}\n",
            cert.display(),
            key.display()
        );
        let mut token_service = None;
        match access {
            Access::Open => {}
            Access::Password { user, password } => {
                let hash = bcrypt::hash(&password, 4).expect("hashing the password");
                let htpasswd = write("htpasswd", &format!("{user}:{hash}\n"));
                rest.push_str(&format!(
                    "auth:\n  htpasswd:\n    realm: wasmesh-test\n    path: {}\n",
                    htpasswd.display()
                ));
            }
            Access::Token { user } => {
                let service = TokenService::start(&dir, user);
                rest.push_str(&format!(
                    "auth:\n  token:\n    realm: {}\n    service: {}\n    issuer: {}\n    rootcertbundle: {}\n",
                    service.realm(),
                    service.service,
                    service.issuer,
                    service.bundle.display()
                ));
                token_service = Some(service);
            }
        }
        let read_only = "  maintenance:\n    readonly:\n      enabled: true\n    uploadpurging:\n      enabled: false\n";
        let (addr, mut process) = spawn(dir, &self.storage, read_only, &rest);
        poll_until("the registry to listen", Duration::from_secs(20), || {
            if let Some(status) = process.exited() {
                return Err(format!("it exited ({status}):\n{}", process.logs_tail()));
            }
            TcpStream::connect(addr)
                .map(drop)
                .map_err(|e| e.to_string())
        });
        SecuredRegistry {
            addr,
            ca,
            token_service,
            _process: process,
        }
    }
}
