//! `queue`, `queue-read`: resolve, register and enqueue on the shared queue the root
//! registered; the root's `on_queue_ready` stores what it dequeues in shared data, which
//! `queue-read` reports.

use proxy_wasm::hostcalls;
use proxy_wasm::types::{Action, Status};
use serde_json::{json, Value};

use crate::case::{Case, Env};
use crate::report::{self, text, ABSENT};
use crate::{counter, names, status};

/// A queue id no host hands out in a test run.
const BAD_QUEUE_ID: u32 = 0x7fff_fff0;

/// `queue`: enqueues the request path and reports each step's status.
pub struct Enqueue;

fn resolve(vm_id: &str, name: &str) -> (String, Option<u32>) {
    match hostcalls::resolve_shared_queue(vm_id, name) {
        Ok(Some(id)) => ("Ok".into(), Some(id)),
        Ok(None) => ("NotFound".into(), None),
        Err(s) => (status::of(s), None),
    }
}

impl Case for Enqueue {
    fn on_request_headers(&mut self, env: &Env<'_>, _: usize, _: bool) -> Action {
        let vm_id = hostcalls::get_property(vec!["plugin_vm_id"])
            .ok()
            .flatten()
            .map(|v| text(&v))
            .unwrap_or_default();
        let path = report::request_header(":path").unwrap_or_else(|| ABSENT.into());
        let (resolve_status, id) = resolve(&vm_id, names::QUEUE);
        let enqueue = match id {
            Some(id) => {
                status::of_result(&hostcalls::enqueue_shared_queue(id, Some(path.as_bytes())))
            }
            None => "skipped".to_string(),
        };
        let register = hostcalls::register_shared_queue(names::QUEUE);
        let (resolve_missing, _) = resolve(&vm_id, names::MISSING_QUEUE);
        let enqueue_bad = hostcalls::enqueue_shared_queue(BAD_QUEUE_ID, Some(b"x"));
        let dequeue_bad = match hostcalls::dequeue_shared_queue(BAD_QUEUE_ID) {
            Ok(Some(_)) => "Ok".to_string(),
            Ok(None) => status::of(Status::Empty),
            Err(s) => status::of(s),
        };
        report::reply_json(
            env,
            200,
            &[],
            &json!({
                "vm_id": vm_id,
                "resolve": resolve_status,
                "enqueue": enqueue,
                "enqueued": path,
                "register": status::of_result(&register),
                "register_same_id": id.is_some() && register.ok() == id,
                "resolve_missing": resolve_missing,
                "enqueue_bad_id": status::of_result(&enqueue_bad),
                "dequeue_bad_id": dequeue_bad,
            }),
        );
        Action::Pause
    }
}

/// `queue-read`: what the roots dequeued so far.
pub struct ReadBack;

impl Case for ReadBack {
    fn on_request_headers(&mut self, env: &Env<'_>, _: usize, _: bool) -> Action {
        let last = match hostcalls::get_shared_data(names::QUEUE_LAST_KEY) {
            Ok((Some(v), _)) => Value::from(text(&v)),
            _ => Value::Null,
        };
        let count = counter::read(names::QUEUE_COUNT_KEY).ok().flatten();
        report::reply_json(env, 200, &[], &json!({"last": last, "count": count}));
        Action::Pause
    }
}
