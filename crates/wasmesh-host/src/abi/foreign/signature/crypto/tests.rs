//! Signing and verifying with keys minted per run: what succeeds, and Envoy's words for what
//! does not (the same words the `signature` end-to-end case checks against Envoy 1.40).

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, RsaKeyPair, ECDSA_P384_SHA384_ASN1_SIGNING};

use super::{sign, verify, Key, BAD_SIGNATURE, NO_PRIVATE_KEY, NO_PUBLIC_KEY};

/// (private PKCS#8 DER, public SubjectPublicKeyInfo DER).
fn rsa_keys() -> (Vec<u8>, Vec<u8>) {
    let pair = RsaKeyPair::generate(KeySize::Rsa2048).expect("an RSA key");
    let private: Pkcs8V1Der = pair.as_der().expect("PKCS#8");
    let public: PublicKeyX509Der = pair.public_key().as_der().expect("SPKI");
    (private.as_ref().to_vec(), public.as_ref().to_vec())
}

fn p384_keys() -> (Vec<u8>, Vec<u8>) {
    let pair = EcdsaKeyPair::generate(&ECDSA_P384_SHA384_ASN1_SIGNING).expect("an EC key");
    let private = pair.to_pkcs8v1().expect("PKCS#8");
    let public: PublicKeyX509Der = pair.public_key().as_der().expect("SPKI");
    (private.as_ref().to_vec(), public.as_ref().to_vec())
}

fn pem(tag: &str, der: &[u8]) -> Key {
    Key::Pem(pem::encode(&pem::Pem::new(tag, der.to_vec())))
}

#[test]
fn rsa_signs_deterministically_and_verifies_in_der_and_pem() {
    let (private, public) = rsa_keys();
    let by_der = sign("sha256", Key::Der(private.clone()), b"text").expect("signed");
    let by_pem = sign("SHA256", pem("PRIVATE KEY", &private), b"text").expect("signed");
    assert_eq!(by_der.len(), 256, "a 2048-bit RSA signature");
    assert_eq!(by_der, by_pem, "PKCS#1 v1.5 signatures are deterministic");
    assert_eq!(
        verify("sha256", Key::Der(public.clone()), &by_der, b"text"),
        Ok(())
    );
    assert_eq!(
        verify("sha256", pem("PUBLIC KEY", &public), &by_der, b"text"),
        Ok(())
    );
    assert_eq!(
        verify("sha256", Key::Der(public.clone()), &by_der, b"other"),
        Err(BAD_SIGNATURE.to_string())
    );
    let by_sha512 = sign("sha512", Key::Der(private), b"text").expect("signed");
    assert_eq!(
        verify("sha256", Key::Der(public), &by_sha512, b"text"),
        Err(BAD_SIGNATURE.to_string()),
        "a signature with another digest does not verify"
    );
}

#[test]
fn ecdsa_signs_and_verifies_on_its_curve() {
    let (private, public) = p384_keys();
    let signature = sign("sha384", Key::Der(private.clone()), b"text").expect("signed");
    assert_eq!(signature[0], 0x30, "an ASN.1 DER signature");
    assert_eq!(
        verify("sha384", Key::Der(public.clone()), &signature, b"text"),
        Ok(())
    );
    assert_eq!(
        verify("sha384", Key::Der(public), &[0, 0, 0], b"text"),
        Err(BAD_SIGNATURE.to_string())
    );
    let refused = sign("sha1", Key::Der(private), b"text").expect_err("no P-384 with SHA-1");
    assert!(
        refused.starts_with("sha1 is not supported with this key type"),
        "{refused}"
    );
}

#[test]
fn what_is_no_key_or_no_digest_gets_envoys_words() {
    let (private, public) = rsa_keys();
    assert_eq!(
        verify("md5", Key::Der(public.clone()), b"sig", b"text"),
        Err("md5 is not supported.".to_string())
    );
    assert_eq!(
        sign("md5", Key::Der(private), b"text"),
        Err("md5 is not supported.".to_string())
    );
    assert_eq!(
        verify("sha256", Key::Der(b"not a key".to_vec()), b"sig", b"text"),
        Err(NO_PUBLIC_KEY.to_string())
    );
    assert_eq!(
        verify("sha256", Key::Pem("not pem".into()), b"sig", b"text"),
        Err(NO_PUBLIC_KEY.to_string())
    );
    assert_eq!(
        sign("sha256", pem("PUBLIC KEY", &public), b"text"),
        Err(NO_PRIVATE_KEY.to_string()),
        "a public key cannot sign"
    );
    let refused = verify("sha224", Key::Der(public), b"sig", b"text").expect_err("no RSA SHA-224");
    assert!(
        refused.starts_with("sha224 is not supported with this key type"),
        "{refused}"
    );
}
