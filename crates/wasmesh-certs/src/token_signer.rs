//! A key that signs tokens (JWS `ES256`) and the self-signed certificate that vouches for it:
//! what a registry's token service holds, so that the tests can run the token flow Docker Hub
//! and GHCR use against a real registry that trusts the certificate.

use rcgen::{CertificateParams, KeyPair, SigningKey};

/// An ECDSA P-256 key and its self-signed certificate.
pub struct TokenSigner {
    key: KeyPair,
    cert_pem: String,
    cert_der: Vec<u8>,
}

impl TokenSigner {
    /// A fresh key, certified as `CN=<common_name>`.
    pub fn new(common_name: &str) -> Result<TokenSigner, rcgen::Error> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::default();
        params.distinguished_name = super::subject(common_name);
        let cert = params.self_signed(&key)?;
        Ok(TokenSigner {
            key,
            cert_pem: cert.pem(),
            cert_der: cert.der().to_vec(),
        })
    }

    /// The certificate (the bundle a verifier trusts).
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The certificate's DER (a JWS header's `x5c`).
    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// The `ES256` signature of `message`: `r` and `s`, 32 bytes each (JWS's form, RFC 7518
    /// §3.4), from the ASN.1 form rcgen signs in.
    pub fn sign_es256(&self, message: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        let der = self.key.sign(message)?;
        fixed_width(&der).ok_or(rcgen::Error::RemoteKeyError)
    }
}

/// `SEQUENCE { INTEGER r, INTEGER s }` (short lengths: P-256's fit) as `r ‖ s`, 32 bytes each.
fn fixed_width(der: &[u8]) -> Option<Vec<u8>> {
    let body = der.strip_prefix(&[0x30])?;
    let (&length, mut rest) = body.split_first()?;
    if usize::from(length) != rest.len() {
        return None;
    }
    let mut out = Vec::with_capacity(64);
    for _ in 0..2 {
        let (&tag, after) = rest.split_first()?;
        let (&length, after) = after.split_first()?;
        let length = usize::from(length);
        if tag != 0x02 || after.len() < length {
            return None;
        }
        let digits = &after[..length];
        let digits = &digits[digits.len().saturating_sub(32)..];
        out.extend(std::iter::repeat_n(0, 32 - digits.len()));
        out.extend_from_slice(digits);
        rest = &after[length..];
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asn1_signatures_become_fixed_width() {
        // r with a leading zero (its top bit set), s shorter than 32 bytes.
        let mut der = vec![0x30, 0, 0x02, 33, 0];
        der.extend([0x80; 32]);
        der.extend([0x02, 2, 0x12, 0x34]);
        der[1] = (der.len() - 2) as u8;
        let fixed = fixed_width(&der).unwrap();
        assert_eq!(&fixed[..32], &[0x80; 32]);
        assert_eq!(&fixed[32..62], &[0; 30]);
        assert_eq!(&fixed[62..], &[0x12, 0x34]);
        let signer = TokenSigner::new("token signer").unwrap();
        assert_eq!(signer.sign_es256(b"header.claims").unwrap().len(), 64);
        assert_eq!(fixed_width(&[0x30, 5, 1]), None);
    }
}
