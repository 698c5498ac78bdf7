//! `metrics`: increment, record and read the counter, gauge and histogram the root defined,
//! plus the refusals the spec and Envoy define (decrementing a counter or adding zero to it,
//! unknown ids).

use proxy_wasm::hostcalls;
use proxy_wasm::types::Action;
use serde_json::json;

use crate::case::{Case, Env};
use crate::{report, status};

/// A metric id no host hands out in a test run (its low bits say "counter" in Envoy's scheme).
const BAD_METRIC_ID: u32 = 0x7fff_fff0;

/// Recorded on the counter after incrementing it by one: Envoy adds a recorded value to a
/// counter.
const COUNTER_RECORD: u64 = 3;

/// Value used when the request has no (valid) `x-abi-value`.
const DEFAULT_VALUE: u64 = 7;

/// Replies with each step's status and the values read back (see README).
pub struct Metrics;

fn get(id: u32) -> (String, Option<u64>) {
    match hostcalls::get_metric(id) {
        Ok(v) => ("Ok".into(), Some(v)),
        Err(s) => (status::of(s), None),
    }
}

impl Case for Metrics {
    fn on_request_headers(&mut self, env: &Env<'_>, _: usize, _: bool) -> Action {
        let Some(ids) = env.root.metrics else {
            report::reply_json(env, 500, &[], &json!({"error": "metrics not defined"}));
            return Action::Pause;
        };
        let value = report::request_header("x-abi-value")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(DEFAULT_VALUE);
        let counter_increment = hostcalls::increment_metric(ids.counter, 1);
        let counter_decrement = hostcalls::increment_metric(ids.counter, -1);
        let counter_zero = hostcalls::increment_metric(ids.counter, 0);
        let counter_record = hostcalls::record_metric(ids.counter, COUNTER_RECORD);
        let (counter_get, counter) = get(ids.counter);
        let gauge_record = hostcalls::record_metric(ids.gauge, value);
        let gauge_increment = hostcalls::increment_metric(ids.gauge, 5);
        let gauge_decrement = hostcalls::increment_metric(ids.gauge, -2);
        let (gauge_get, gauge) = get(ids.gauge);
        let histogram_record = hostcalls::record_metric(ids.histogram, value);
        let (histogram_get, _) = get(ids.histogram);
        let (missing_get, _) = get(BAD_METRIC_ID);
        let missing_record = hostcalls::record_metric(BAD_METRIC_ID, 1);
        let missing_increment = hostcalls::increment_metric(BAD_METRIC_ID, 1);
        let mut headers = Vec::new();
        if let Some(c) = counter {
            headers.push(("x-abi-counter", c.to_string()));
        }
        if let Some(g) = gauge {
            headers.push(("x-abi-gauge", g.to_string()));
        }
        report::reply_json(
            env,
            200,
            &headers,
            &json!({
                "value": value,
                "counter": counter,
                "counter_get": counter_get,
                "counter_increment": status::of_result(&counter_increment),
                "counter_decrement": status::of_result(&counter_decrement),
                "counter_zero": status::of_result(&counter_zero),
                "counter_record": status::of_result(&counter_record),
                "gauge": gauge,
                "gauge_get": gauge_get,
                "gauge_record": status::of_result(&gauge_record),
                "gauge_increment": status::of_result(&gauge_increment),
                "gauge_decrement": status::of_result(&gauge_decrement),
                "histogram_record": status::of_result(&histogram_record),
                "histogram_get": histogram_get,
                "missing_get": missing_get,
                "missing_record": status::of_result(&missing_record),
                "missing_increment": status::of_result(&missing_increment),
            }),
        );
        Action::Pause
    }
}
