//! Signing and verifying for `sign` and `verify_signature` with AWS-LC (aws-lc-rs), the
//! BoringSSL fork Envoy's crypto comes from: RSA keys sign with PKCS#1 v1.5 padding, EC keys
//! with ECDSA (ASN.1 DER signatures), the digest named by the hash function, as Envoy's
//! `EVP_DigestSign` and `EVP_DigestVerify` do for those key types.
//!
//! aws-lc-rs offers fixed (key type, curve, digest) combinations rather than any digest with
//! any key; the ones it lacks (RSA or P-256/P-384 with SHA-224, signing with SHA-1, an EC key
//! signing with a digest other than its curve's) answer false with an error that says so, where
//! Envoy would sign or verify.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self as sig, EcdsaKeyPair, ParsedPublicKey, RsaKeyPair};

/// A key as a filter passes it.
pub enum Key {
    /// DER: SubjectPublicKeyInfo for a public key, PKCS#8 for a private key.
    Der(Vec<u8>),
    /// PEM text.
    Pem(String),
}

/// Envoy's words for a key that does not parse or does not fit the operation.
const NO_PUBLIC_KEY: &str = "Failed to initialize digest verify.";
const NO_PRIVATE_KEY: &str = "Invalid key type: private key required for signing operation.";
const BAD_SIGNATURE: &str = "Failed to verify digest. Error code: 0";

/// The digests Envoy knows (case-insensitive), or its error for another name.
#[derive(Clone, Copy, PartialEq)]
enum Digest {
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl Digest {
    fn named(name: &str) -> Result<Digest, String> {
        match name.to_ascii_lowercase().as_str() {
            "sha1" => Ok(Digest::Sha1),
            "sha224" => Ok(Digest::Sha224),
            "sha256" => Ok(Digest::Sha256),
            "sha384" => Ok(Digest::Sha384),
            "sha512" => Ok(Digest::Sha512),
            _ => Err(format!("{name} is not supported.")),
        }
    }

    /// The verification algorithms for this digest, one per key type and curve aws-lc-rs has.
    fn verifiers(self) -> Vec<&'static dyn sig::VerificationAlgorithm> {
        match self {
            Digest::Sha1 => vec![
                &sig::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY,
                &sig::ECDSA_P256_SHA1_ASN1,
                &sig::ECDSA_P521_SHA1_ASN1,
            ],
            Digest::Sha224 => vec![&sig::ECDSA_P521_SHA224_ASN1],
            Digest::Sha256 => vec![
                &sig::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
                &sig::ECDSA_P256_SHA256_ASN1,
                &sig::ECDSA_P384_SHA256_ASN1,
                &sig::ECDSA_P521_SHA256_ASN1,
            ],
            Digest::Sha384 => vec![
                &sig::RSA_PKCS1_2048_8192_SHA384,
                &sig::ECDSA_P256_SHA384_ASN1,
                &sig::ECDSA_P384_SHA384_ASN1,
                &sig::ECDSA_P521_SHA384_ASN1,
            ],
            Digest::Sha512 => vec![
                &sig::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY,
                &sig::ECDSA_P256_SHA512_ASN1,
                &sig::ECDSA_P384_SHA512_ASN1,
                &sig::ECDSA_P521_SHA512_ASN1,
            ],
        }
    }

    /// The RSA padding for signing with this digest.
    fn rsa_padding(self) -> Option<&'static sig::RsaSignatureEncoding> {
        match self {
            Digest::Sha256 => Some(&sig::RSA_PKCS1_SHA256),
            Digest::Sha384 => Some(&sig::RSA_PKCS1_SHA384),
            Digest::Sha512 => Some(&sig::RSA_PKCS1_SHA512),
            Digest::Sha1 | Digest::Sha224 => None,
        }
    }

    /// The ECDSA signing algorithms for this digest, one per curve aws-lc-rs signs it with.
    fn ecdsa_signers(self) -> Vec<&'static sig::EcdsaSigningAlgorithm> {
        match self {
            Digest::Sha1 => vec![],
            Digest::Sha224 => vec![&sig::ECDSA_P521_SHA224_ASN1_SIGNING],
            Digest::Sha256 => vec![
                &sig::ECDSA_P256_SHA256_ASN1_SIGNING,
                &sig::ECDSA_P521_SHA256_ASN1_SIGNING,
            ],
            Digest::Sha384 => vec![
                &sig::ECDSA_P384_SHA384_ASN1_SIGNING,
                &sig::ECDSA_P521_SHA384_ASN1_SIGNING,
            ],
            Digest::Sha512 => vec![&sig::ECDSA_P521_SHA512_ASN1_SIGNING],
        }
    }
}

/// The algorithms that recognise any key of the types Envoy signs with, whatever the digest:
/// to tell a key aws-lc-rs cannot use with this digest from one that is no key.
const ANY_VERIFIER: [&dyn sig::VerificationAlgorithm; 4] = [
    &sig::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
    &sig::ECDSA_P256_SHA256_ASN1,
    &sig::ECDSA_P384_SHA384_ASN1,
    &sig::ECDSA_P521_SHA512_ASN1,
];
const ANY_ECDSA_SIGNER: [&sig::EcdsaSigningAlgorithm; 3] = [
    &sig::ECDSA_P256_SHA256_ASN1_SIGNING,
    &sig::ECDSA_P384_SHA384_ASN1_SIGNING,
    &sig::ECDSA_P521_SHA512_ASN1_SIGNING,
];

fn unsupported(digest: &str) -> String {
    format!("{digest} is not supported with this key type here (wasmesh's AWS-LC has no such combination).")
}

/// Checks `signature` over `text`; the error in Envoy's words.
pub fn verify(digest: &str, key: Key, signature: &[u8], text: &[u8]) -> Result<(), String> {
    let name = digest;
    let digest = Digest::named(digest)?;
    let der = match key {
        Key::Der(der) => der,
        Key::Pem(text) => pem::parse(text)
            .map_err(|_| NO_PUBLIC_KEY.to_string())?
            .into_contents(),
    };
    let parsed = digest
        .verifiers()
        .into_iter()
        .find_map(|algorithm| ParsedPublicKey::new(algorithm, &der).ok());
    let Some(key) = parsed else {
        let known = ANY_VERIFIER
            .iter()
            .any(|algorithm| ParsedPublicKey::new(*algorithm, &der).is_ok());
        return Err(match known {
            true => unsupported(name),
            false => NO_PUBLIC_KEY.to_string(),
        });
    };
    key.verify_sig(text, signature)
        .map_err(|_| BAD_SIGNATURE.to_string())
}

/// The signature of `text`; the error in Envoy's words.
pub fn sign(digest: &str, key: Key, text: &[u8]) -> Result<Vec<u8>, String> {
    let name = digest;
    let digest = Digest::named(digest)?;
    // PKCS#8, or (in PEM, which Envoy's reader also takes them in) an RSA key in PKCS#1
    // (`RSA PRIVATE KEY`) or an EC key in SEC 1 (`EC PRIVATE KEY`).
    let (der, tag) = match key {
        Key::Der(der) => (der, String::new()),
        Key::Pem(text) => {
            let pem = pem::parse(text).map_err(|_| NO_PRIVATE_KEY.to_string())?;
            (pem.contents().to_vec(), pem.tag().to_string())
        }
    };
    let rsa = match tag.as_str() {
        "RSA PRIVATE KEY" => RsaKeyPair::from_der(&der),
        _ => RsaKeyPair::from_pkcs8(&der),
    };
    let ecdsa_key = |algorithm| match tag.as_str() {
        "EC PRIVATE KEY" => EcdsaKeyPair::from_private_key_der(algorithm, &der),
        _ => EcdsaKeyPair::from_pkcs8(algorithm, &der),
    };
    let rng = SystemRandom::new();
    if let Ok(pair) = rsa {
        let padding = digest.rsa_padding().ok_or_else(|| unsupported(name))?;
        let mut signature = vec![0; pair.public_modulus_len()];
        pair.sign(padding, &rng, text, &mut signature)
            .map_err(|_| NO_PRIVATE_KEY.to_string())?;
        return Ok(signature);
    }
    let ecdsa = digest
        .ecdsa_signers()
        .into_iter()
        .find_map(|algorithm| ecdsa_key(algorithm).ok());
    let Some(pair) = ecdsa else {
        let known = ANY_ECDSA_SIGNER
            .iter()
            .any(|algorithm| ecdsa_key(algorithm).is_ok());
        return Err(match known {
            true => unsupported(name),
            false => NO_PRIVATE_KEY.to_string(),
        });
    };
    let signature = pair
        .sign(&rng, text)
        .map_err(|_| NO_PRIVATE_KEY.to_string())?;
    Ok(signature.as_ref().to_vec())
}

#[cfg(test)]
mod tests;
