//! `shared-data`: get of a missing key, set, get with CAS, set with the current CAS, set with
//! a stale CAS (`CasMismatch`), and a final read.
//!
//! CAS values differ between hosts, so only their properties are reported (non-zero, changed).

use proxy_wasm::hostcalls;
use proxy_wasm::types::{Action, Status};
use serde_json::{json, Value};

use crate::case::{Case, Env};
use crate::report::{self, text};
use crate::{names, status};

/// Replies with the status of each step (see README).
pub struct SharedData;

/// `{"status", "value", "cas_nonzero"}` for one get; the status is `NotFound` when the SDK
/// reports neither value nor CAS (its mapping of `NOT_FOUND`).
fn get(key: &str) -> (Value, Option<u32>) {
    match hostcalls::get_shared_data(key) {
        Ok((None, None)) => (json!({"status": "NotFound"}), None),
        Ok((value, cas)) => (
            json!({
                "status": "Ok",
                "value": value.map(|v| text(&v)),
                "cas_nonzero": cas.is_some(),
            }),
            cas,
        ),
        Err(s) => (json!({"status": status::of(s)}), None),
    }
}

fn set(key: &str, value: &[u8], cas: Option<u32>) -> String {
    status::of_result(&hostcalls::set_shared_data(key, Some(value), cas))
}

impl Case for SharedData {
    fn on_request_headers(&mut self, env: &Env<'_>, _: usize, _: bool) -> Action {
        let key = report::request_header("x-abi-key").unwrap_or_else(|| names::SHARED_KEY.into());
        let (missing, _) = get(&format!("{key}.missing"));
        let first_set = set(&key, b"v1", None);
        let (first_get, cas) = get(&key);
        let set_cas = set(&key, b"v2", cas);
        let set_stale = if cas.is_some() {
            set(&key, b"v3", cas)
        } else {
            status::of(Status::BadArgument) + " (no cas to reuse)"
        };
        let (mut last_get, last_cas) = get(&key);
        last_get["cas_changed"] = Value::from(last_cas.is_some() && last_cas != cas);
        report::reply_json(
            env,
            200,
            &[],
            &json!({
                "key": key,
                "get_missing": missing,
                "set": first_set,
                "get": first_get,
                "set_with_cas": set_cas,
                "set_with_stale_cas": set_stale,
                "get_after": last_get,
            }),
        );
        Action::Pause
    }
}
