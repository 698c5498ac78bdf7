//! Envoy's `verify_signature` and `sign` foreign functions: their arguments and results are
//! Envoy's protobuf messages (`source/extensions/common/wasm/ext/verify_signature.proto` and
//! `sign.proto`), and they answer as Envoy 1.40 does: arguments that are no such message, or
//! that give the key both in DER and PEM or not at all, are `BadArgument`; anything else is
//! `Ok` with a result message, whose `error` says in Envoy's words why the result is false.
//! The cryptography is in `crypto.rs`.

mod crypto;

use prost::Message;

use crate::abi::Status;

#[derive(Clone, PartialEq, prost::Message)]
struct VerifySignatureArguments {
    #[prost(string, tag = "1")]
    hash_function: String,
    #[prost(bytes = "vec", tag = "2")]
    public_key: Vec<u8>,
    #[prost(bytes = "vec", tag = "3")]
    signature: Vec<u8>,
    #[prost(bytes = "vec", tag = "4")]
    text: Vec<u8>,
    #[prost(string, tag = "5")]
    public_key_pem: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct VerifySignatureResult {
    #[prost(bool, tag = "1")]
    result: bool,
    #[prost(string, tag = "2")]
    error: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct SignArguments {
    #[prost(string, tag = "1")]
    hash_function: String,
    #[prost(bytes = "vec", tag = "2")]
    private_key: Vec<u8>,
    #[prost(bytes = "vec", tag = "3")]
    text: Vec<u8>,
    #[prost(string, tag = "4")]
    private_key_pem: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct SignResult {
    #[prost(bool, tag = "1")]
    result: bool,
    #[prost(bytes = "vec", tag = "2")]
    signature: Vec<u8>,
    #[prost(string, tag = "3")]
    error: String,
}

/// `verify_signature`: whether `signature` is the signature of `text` by the public key (DER
/// SubjectPublicKeyInfo or PEM), with `hash_function`.
pub fn verify(arguments: &[u8]) -> Result<Vec<u8>, Status> {
    let args = VerifySignatureArguments::decode(arguments).map_err(|_| Status::BadArgument)?;
    let key = key_material(args.public_key, &args.public_key_pem)?;
    let outcome = crypto::verify(&args.hash_function, key, &args.signature, &args.text);
    let result = VerifySignatureResult {
        result: outcome.is_ok(),
        error: outcome.err().unwrap_or_default(),
    };
    Ok(result.encode_to_vec())
}

/// `sign`: the signature of `text` by the private key (DER PKCS#8 or PEM), with
/// `hash_function`.
pub fn sign(arguments: &[u8]) -> Result<Vec<u8>, Status> {
    let args = SignArguments::decode(arguments).map_err(|_| Status::BadArgument)?;
    let key = key_material(args.private_key, &args.private_key_pem)?;
    let result = match crypto::sign(&args.hash_function, key, &args.text) {
        Ok(signature) => SignResult {
            result: true,
            signature,
            error: String::new(),
        },
        Err(error) => SignResult {
            result: false,
            signature: Vec::new(),
            error,
        },
    };
    Ok(result.encode_to_vec())
}

/// The key from exactly one of its two fields (`BadArgument` otherwise, as Envoy answers).
fn key_material(der: Vec<u8>, pem: &str) -> Result<crypto::Key, Status> {
    match (der.is_empty(), pem.is_empty()) {
        (false, true) => Ok(crypto::Key::Der(der)),
        (true, false) => Ok(crypto::Key::Pem(pem.to_string())),
        _ => Err(Status::BadArgument),
    }
}
