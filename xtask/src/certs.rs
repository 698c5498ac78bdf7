//! `cargo xtask certs [--out DIR]`: a CA and the certificates the README's TLS example uses,
//! minted fresh (never committed): `ca.pem`; `server.pem` / `server-key.pem` for `localhost`
//! with identity `spiffe://wasmesh.example/ns/default/sa/api`; `client.pem` / `client-key.pem`
//! with identity `spiffe://wasmesh.example/ns/default/sa/web`.

use std::path::Path;

use anyhow::Context;
use wasmesh_certs::{spiffe_id, Authority, Workload};

/// The example's trust domain.
const TRUST_DOMAIN: &str = "wasmesh.example";

/// Mints the files into `out` (created if missing), replacing earlier ones.
pub fn run(out: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let ca = Authority::new("wasmesh example CA")?;
    let server = ca.issue(&Workload::server(
        "localhost",
        spiffe_id(TRUST_DOMAIN, "default", "api"),
    ))?;
    let client = ca.issue(&Workload::client(
        "web",
        spiffe_id(TRUST_DOMAIN, "default", "web"),
    ))?;
    let files = [
        ("ca.pem", ca.cert_pem()),
        ("server.pem", server.cert_pem.as_str()),
        ("server-key.pem", server.key_pem.as_str()),
        ("client.pem", client.cert_pem.as_str()),
        ("client-key.pem", client.key_pem.as_str()),
    ];
    for (name, text) in files {
        let path = out.join(name);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    eprintln!(
        "wrote ca.pem, server.pem, server-key.pem (localhost, {}), client.pem, client-key.pem ({}) to {}",
        spiffe_id(TRUST_DOMAIN, "default", "api"),
        spiffe_id(TRUST_DOMAIN, "default", "web"),
        out.display()
    );
    Ok(())
}
