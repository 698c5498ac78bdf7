//! A registry token service, speaking the Docker token protocol that Docker Hub, GHCR and Quay
//! speak: `GET /token?service=…&scope=repository:<name>:pull` answers `{"token": …}`, a JWS
//! (`ES256`, its certificate in `x5c`) that the registry checks against the certificate it
//! trusts (`rootcertbundle`). It grants `pull` to anyone, or only to its one user with the
//! right password. No token service comes from this machine's package registries, so the tests
//! carry this one; the registry checking its tokens is the real one. What it granted is kept
//! for the tests to read.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::json;
use wasmesh_certs::TokenSigner;

use crate::static_server::{Answer, Request, StaticServer};

/// The running service; stopped when dropped.
pub struct TokenService {
    server: StaticServer,
    /// The certificate the registry trusts for its tokens.
    pub bundle: PathBuf,
    /// The `service` (the registry's name) its tokens are for.
    pub service: &'static str,
    /// The `iss` of its tokens.
    pub issuer: &'static str,
    grants: Arc<Mutex<Vec<String>>>,
}

impl TokenService {
    /// Starts it, writing its certificate into `dir`; with `user`, only that user and password
    /// get tokens.
    pub fn start(dir: &Path, user: Option<(String, String)>) -> TokenService {
        let (service, issuer) = ("wasmesh-test-registry", "wasmesh-test-token-service");
        let signer = Arc::new(TokenSigner::new("token service").expect("a signing key"));
        let bundle = dir.join("token-signer.pem");
        std::fs::write(&bundle, signer.cert_pem()).expect("writing the token certificate");
        let grants = Arc::new(Mutex::new(Vec::new()));
        let kept = grants.clone();
        let handler = move |request: &Request| {
            let (status, body) = answer(request, &signer, user.as_ref(), service, issuer, &kept);
            let headers = vec![("content-type".to_string(), "application/json".to_string())];
            (status, headers, body.to_string().into_bytes())
        };
        TokenService {
            server: StaticServer::start(vec![("/token", Answer::Computed(Arc::new(handler)))]),
            bundle,
            service,
            issuer,
            grants,
        }
    }

    /// The URL registries send clients to (`realm`).
    pub fn realm(&self) -> String {
        self.server.url("/token")
    }

    /// `<user or "anonymous"> <scope>` for each token given.
    pub fn grants(&self) -> Vec<String> {
        self.grants.lock().expect("grants").clone()
    }
}

/// The status and JSON body for a token request.
fn answer(
    request: &Request,
    signer: &TokenSigner,
    user: Option<&(String, String)>,
    service: &str,
    issuer: &str,
    grants: &Mutex<Vec<String>>,
) -> (u16, serde_json::Value) {
    let presented = request
        .header("authorization")
        .and_then(|value| value.strip_prefix("Basic "))
        .and_then(|b64| STANDARD.decode(b64).ok())
        .and_then(|bytes| String::from_utf8(bytes).ok());
    let subject = match (user, presented) {
        (None, None) => "anonymous".to_string(),
        (Some((name, password)), Some(pair)) if pair == format!("{name}:{password}") => {
            name.clone()
        }
        _ => return (401, json!({ "details": "wrong or missing credentials" })),
    };
    let query = request.target.split_once('?').map_or("", |(_, q)| q);
    let scope = form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == "scope")
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default();
    let mut parts = scope.splitn(3, ':');
    let (kind, name, actions) = (parts.next(), parts.next(), parts.next());
    let access = match (kind, name, actions) {
        (Some("repository"), Some(name), Some(actions))
            if actions.split(',').any(|a| a == "pull") =>
        {
            json!([{ "type": "repository", "name": name, "actions": ["pull"] }])
        }
        _ => json!([]),
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let header =
        json!({ "typ": "JWT", "alg": "ES256", "x5c": [STANDARD.encode(signer.cert_der())] });
    let claims = json!({
        "iss": issuer, "sub": if subject == "anonymous" { "" } else { &subject },
        "aud": service, "iat": now, "nbf": now - 60, "exp": now + 300,
        "jti": format!("{now}-{}", grants.lock().expect("grants").len()), "access": access,
    });
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = signer
        .sign_es256(signing_input.as_bytes())
        .expect("signing a token");
    let token = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature));
    grants
        .lock()
        .expect("grants")
        .push(format!("{subject} {scope}"));
    (
        200,
        json!({ "token": token, "access_token": token, "expires_in": 300 }),
    )
}
