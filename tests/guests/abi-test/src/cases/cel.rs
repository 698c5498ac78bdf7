//! `cel`: Envoy's CEL foreign functions (`expr_create`, `expr_evaluate`, `expr_delete`) on
//! expressions over the request's attributes, as a filter that takes its rules as CEL text does.
//! The reply says what each call answered and, for a value, its bytes in hex (encoded as Envoy
//! encodes property values).

use proxy_wasm::hostcalls;
use proxy_wasm::types::{Action, Status};
use serde_json::{json, Value};

use crate::case::{Case, Env};
use crate::{report, status};

/// Replies with each call's outcome.
pub struct Cel;

/// Expressions the case creates and evaluates, by the name the reply gives them.
const EXPRESSIONS: &[(&str, &str)] = &[
    ("string", "request.path + '!'"),
    ("int", "size(request.path) * 2"),
    ("bool", "request.headers['x-abi-case'] == 'cel'"),
    ("double", "1.5 * 2.0"),
    ("list", "[1, 2]"),
    ("map", "{'a': 'b'}"),
    ("missing_header", "request.headers['x-abi-absent']"),
    ("method_in", "request.method in ['GET', 'HEAD']"),
    ("uint", "2u"),
    ("bytes", "b'ab'"),
    ("null", "null"),
    ("timestamp", "timestamp('2026-01-02T03:04:05Z')"),
    ("duration", "duration('1.5s')"),
    (
        "request_time",
        "request.time > timestamp('2026-01-01T00:00:00Z')",
    ),
    ("request_duration", "request.duration"),
    ("nested", "[['x'], {'k': 1}]"),
    ("source_port_positive", "source.port > 0"),
    ("destination_port", "destination.port > 0"),
    ("source_address", "source.address"),
    ("mtls", "connection.mtls"),
    ("response_code", "response.code"),
    ("plugin_name", "plugin_name"),
    ("headers_size", "size(request.headers) > 2"),
    ("starts_with", "request.path.startsWith('/cel')"),
    ("matches", "request.path.matches('^/c.l/')"),
    ("unknown_ident", "no_such_thing"),
    ("div_zero", "1 / 0"),
];

impl Case for Cel {
    fn on_request_headers(&mut self, env: &Env<'_>, _: usize, _: bool) -> Action {
        let mut reply = serde_json::Map::new();
        for (name, text) in EXPRESSIONS {
            reply.insert(name.to_string(), create_and_evaluate(text));
        }
        reply.insert(
            "parse_error".into(),
            json!(status::of_result(&create("1 +"))),
        );
        let token = create("1 + 1").ok();
        let deleted = token.map(|t| call("expr_delete", &t.to_le_bytes()));
        let after_delete = token.map(|t| call("expr_evaluate", &t.to_le_bytes()));
        reply.insert(
            "delete".into(),
            json!(deleted.map(|r| status::of_result(&r))),
        );
        reply.insert(
            "evaluate_deleted".into(),
            json!(after_delete.map(|r| status::of_result(&r))),
        );
        let short = call("expr_evaluate", &[1, 2]);
        reply.insert(
            "evaluate_short_token".into(),
            json!(status::of_result(&short)),
        );
        report::reply_json(env, 200, &[], &Value::Object(reply));
        Action::Pause
    }
}

fn create(text: &str) -> Result<u32, Status> {
    let token = call("expr_create", text.as_bytes())?;
    let bytes: [u8; 4] = token
        .get(..4)
        .and_then(|b| b.try_into().ok())
        .ok_or(Status::InternalFailure)?;
    Ok(u32::from_le_bytes(bytes))
}

fn create_and_evaluate(text: &str) -> Value {
    let token = match create(text) {
        Ok(token) => token,
        Err(s) => return json!({ "create": status::of(s) }),
    };
    let value = call("expr_evaluate", &token.to_le_bytes());
    let _ = call("expr_delete", &token.to_le_bytes());
    match value {
        Ok(bytes) => json!({"create": "Ok", "evaluate": "Ok", "hex": report::hex(&bytes)}),
        Err(s) => json!({"create": "Ok", "evaluate": status::of(s)}),
    }
}

fn call(name: &str, arguments: &[u8]) -> Result<Vec<u8>, Status> {
    hostcalls::call_foreign_function(name, Some(arguments)).map(Option::unwrap_or_default)
}
