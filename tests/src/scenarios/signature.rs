//! Envoy's `sign` and `verify_signature` foreign functions, through the abi-test guest's
//! `signature` case: a key pair minted for the run (RSA 2048 or EC P-256), the private key in
//! PEM and DER (PKCS#8), the public key in PEM and DER (SubjectPublicKeyInfo). The test checks
//! a signature the proxy made with the key itself, outside the proxy.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::signature::{self, KeyPair};
use serde_json::{json, Value};

use crate::client;
use crate::scenarios::abi::Abi;
use crate::ProxyKind;

/// Which key pair the case gets.
#[derive(Debug, Clone, Copy)]
pub enum KeyKind {
    /// RSA, 2048 bits (PKCS#1 v1.5 signatures).
    Rsa,
    /// ECDSA on P-256 (ASN.1 DER signatures).
    Ec,
}

/// A key pair as the guest gets it.
struct Keys {
    private_der: Vec<u8>,
    public_der: Vec<u8>,
}

impl Keys {
    fn mint(kind: KeyKind) -> Keys {
        match kind {
            KeyKind::Rsa => {
                let pair = signature::RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
                    .expect("an RSA key");
                let private: aws_lc_rs::encoding::Pkcs8V1Der = pair.as_der().expect("PKCS#8");
                let public: aws_lc_rs::encoding::PublicKeyX509Der =
                    pair.public_key().as_der().expect("SPKI");
                Keys {
                    private_der: private.as_ref().to_vec(),
                    public_der: public.as_ref().to_vec(),
                }
            }
            KeyKind::Ec => {
                let pair =
                    signature::EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_ASN1_SIGNING)
                        .expect("an EC key");
                let private = pair.to_pkcs8v1().expect("PKCS#8");
                let public: aws_lc_rs::encoding::PublicKeyX509Der =
                    pair.public_key().as_der().expect("SPKI");
                Keys {
                    private_der: private.as_ref().to_vec(),
                    public_der: public.as_ref().to_vec(),
                }
            }
        }
    }

    /// Whether `signature` is this key's signature of `text` (SHA-256), checked here.
    fn check(&self, kind: KeyKind, text: &str, signature: &[u8]) -> Result<(), ()> {
        let algorithm: &dyn signature::VerificationAlgorithm = match kind {
            KeyKind::Rsa => &signature::RSA_PKCS1_2048_8192_SHA256,
            KeyKind::Ec => &signature::ECDSA_P256_SHA256_ASN1,
        };
        signature::UnparsedPublicKey::new(algorithm, &self.public_der)
            .verify(text.as_bytes(), signature)
            .map_err(|_| ())
    }

    fn request(&self, text: &str) -> Value {
        let pem = |tag: &str, der: &[u8]| pem::encode(&pem::Pem::new(tag, der.to_vec()));
        json!({
            "hash": "sha256",
            "text": text,
            "private_key_pem": pem("PRIVATE KEY", &self.private_der),
            "private_key_der_hex": hex(&self.private_der),
            "public_key_pem": pem("PUBLIC KEY", &self.public_der),
            "public_key_der_hex": hex(&self.public_der),
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Signs and verifies with a fresh key of `key`, and checks every answer.
pub fn sign_and_verify(kind: ProxyKind, key: KeyKind) {
    let abi = Abi::start(kind);
    let keys = Keys::mint(key);
    let text = "the text to sign";
    let response = client::post(
        &abi.proxy.url("main", "/"),
        &[
            ("x-abi-case", "signature"),
            ("content-type", "application/json"),
        ],
        keys.request(text).to_string(),
    );
    let host = kind.name();
    assert_eq!(response.status, 200, "{host}: {}", response.text());
    let got: Value = serde_json::from_slice(&response.body).expect("a JSON reply");
    let answered = |name: &str, expected: Value| {
        assert_eq!(got[name], expected, "{host} {key:?}: {name} in {got:#}");
    };
    let signed = |name: &str| {
        let call = &got[name];
        assert_eq!(
            (&call["status"], &call["result"], &call["error"]),
            (&json!("Ok"), &json!(true), &json!("")),
            "{host} {key:?}: {name} in {got:#}"
        );
        unhex(call["signature_hex"].as_str().expect("a signature"))
    };
    let (by_pem, by_der) = (signed("sign_pem"), signed("sign_der"));
    for signature in [&by_pem, &by_der] {
        keys.check(key, text, signature)
            .unwrap_or_else(|_| panic!("{host} {key:?}: the signature does not verify"));
    }
    if let KeyKind::Rsa = key {
        assert_eq!(
            by_pem, by_der,
            "{host}: PKCS#1 v1.5 signatures are deterministic"
        );
    }
    let verified = json!({"status": "Ok", "result": true, "error": ""});
    answered("verify_pem", verified.clone());
    answered("verify_der", verified);
    let mismatch = json!({"status": "Ok", "result": false,
                          "error": "Failed to verify digest. Error code: 0"});
    answered("verify_other_text", mismatch.clone());
    answered("verify_bad_signature", mismatch);
    answered(
        "verify_unknown_hash",
        json!({"status": "Ok", "result": false, "error": "md5 is not supported."}),
    );
    answered(
        "verify_garbage_key",
        json!({"status": "Ok", "result": false, "error": "Failed to initialize digest verify."}),
    );
    answered(
        "sign_public_key",
        json!({"status": "Ok", "result": false, "signature_hex": "",
               "error": "Invalid key type: private key required for signing operation."}),
    );
    let refused = json!({"status": "BadArgument"});
    answered("verify_no_key", refused.clone());
    answered("verify_both_keys", refused.clone());
    answered("sign_no_key", refused);
    answered("sign_not_protobuf", json!("BadArgument"));
    answered("verify_not_protobuf", json!("BadArgument"));
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len() / 2)
        .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).expect("hex"))
        .collect()
}
