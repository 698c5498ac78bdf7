//! `signature`: Envoy's `sign` and `verify_signature` foreign functions, with the arguments and
//! results in Envoy's protobuf messages (`SignArguments`, `SignResult`,
//! `VerifySignatureArguments`, `VerifySignatureResult`), as a filter that signs or checks a
//! token calls them. The keys and the text come in the request body (JSON); the reply says what
//! each call answered.

use prost::Message;
use proxy_wasm::hostcalls;
use proxy_wasm::types::{Action, BufferType, Status};
use serde_json::{json, Value};

use crate::case::{Case, Env};
use crate::{report, status};

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

/// Buffers the whole body, then signs and verifies.
pub struct Signature;

impl Case for Signature {
    fn on_request_body(&mut self, env: &Env<'_>, body_size: usize, eos: bool) -> Action {
        if !eos {
            return Action::Pause;
        }
        let body = hostcalls::get_buffer(BufferType::HttpRequestBody, 0, body_size);
        let input: Value = body
            .ok()
            .flatten()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(Value::Null);
        report::reply_json(env, 200, &[], &run(&Input::from(&input)));
        Action::Pause
    }
}

/// The request body's fields.
struct Input {
    hash: String,
    text: Vec<u8>,
    private_key_pem: String,
    private_key_der: Vec<u8>,
    public_key_pem: String,
    public_key_der: Vec<u8>,
}

impl Input {
    fn from(value: &Value) -> Input {
        let text = |name: &str| value[name].as_str().unwrap_or_default().to_string();
        Input {
            hash: text("hash"),
            text: text("text").into_bytes(),
            private_key_pem: text("private_key_pem"),
            private_key_der: unhex(&text("private_key_der_hex")),
            public_key_pem: text("public_key_pem"),
            public_key_der: unhex(&text("public_key_der_hex")),
        }
    }
}

fn run(input: &Input) -> Value {
    let sign_with = |private_key: Vec<u8>, private_key_pem: String| {
        sign(SignArguments {
            hash_function: input.hash.clone(),
            private_key,
            text: input.text.clone(),
            private_key_pem,
        })
    };
    let (sign_pem, by_pem) = sign_with(Vec::new(), input.private_key_pem.clone());
    let (sign_der, by_der) = sign_with(input.private_key_der.clone(), String::new());
    let verify_with = |hash: &str, der: &[u8], pem: &str, signature: &[u8], text: &[u8]| {
        verify(VerifySignatureArguments {
            hash_function: hash.to_string(),
            public_key: der.to_vec(),
            signature: signature.to_vec(),
            text: text.to_vec(),
            public_key_pem: pem.to_string(),
        })
    };
    let (hash, der, pem) = (&input.hash, &input.public_key_der, &input.public_key_pem);
    let text = &input.text;
    json!({
        "sign_pem": sign_pem,
        "sign_der": sign_der,
        "verify_pem": verify_with(hash, &[], pem, &by_pem, text),
        "verify_der": verify_with(hash, der, "", &by_der, text),
        "verify_other_text": verify_with(hash, der, "", &by_der, b"other text"),
        "verify_bad_signature": verify_with(hash, der, "", &[0, 0, 0], text),
        "verify_unknown_hash": verify_with("md5", der, "", &by_der, text),
        "verify_no_key": verify_with(hash, &[], "", &by_der, text),
        "verify_both_keys": verify_with(hash, der, pem, &by_der, text),
        "verify_garbage_key": verify_with(hash, b"not a key", "", &by_der, text),
        "sign_public_key": sign_with(Vec::new(), input.public_key_pem.clone()).0,
        "sign_no_key": sign_with(Vec::new(), String::new()).0,
        "sign_not_protobuf": status::of_result(&call("sign", &[0xff, 0xff, 0xff])),
        "verify_not_protobuf": status::of_result(&call("verify_signature", &[0xff, 0xff, 0xff])),
    })
}

/// `sign`: what it answered, and the signature.
fn sign(arguments: SignArguments) -> (Value, Vec<u8>) {
    match call("sign", &arguments.encode_to_vec()) {
        Ok(bytes) => match SignResult::decode(bytes.as_slice()) {
            Ok(r) => (
                json!({"status": "Ok", "result": r.result, "error": r.error,
                       "signature_hex": report::hex(&r.signature)}),
                r.signature,
            ),
            Err(_) => (json!({"status": "Ok", "decoded": false}), Vec::new()),
        },
        Err(s) => (json!({ "status": status::of(s) }), Vec::new()),
    }
}

/// `verify_signature`: what it answered.
fn verify(arguments: VerifySignatureArguments) -> Value {
    match call("verify_signature", &arguments.encode_to_vec()) {
        Ok(bytes) => match VerifySignatureResult::decode(bytes.as_slice()) {
            Ok(r) => json!({"status": "Ok", "result": r.result, "error": r.error}),
            Err(_) => json!({"status": "Ok", "decoded": false}),
        },
        Err(s) => json!({ "status": status::of(s) }),
    }
}

fn call(name: &str, arguments: &[u8]) -> Result<Vec<u8>, Status> {
    hostcalls::call_foreign_function(name, Some(arguments)).map(Option::unwrap_or_default)
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len() / 2)
        .filter_map(|i| u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok())
        .collect()
}
