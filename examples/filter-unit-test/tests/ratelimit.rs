//! Our `ratelimit` filter, unit-tested with wasmesh-harness: the same `.wasm` Envoy and
//! wasmesh load, driven callback by callback, with the clock moved by the test.

use std::time::Duration;

use wasmesh_example_filter_unit_test::ratelimit_wasm;
use wasmesh_harness::{HarnessError, Outcome, Plugin};

/// Three requests at once per user, then one more per second.
fn limiter() -> Plugin {
    Plugin::load(ratelimit_wasm())
        .name("ratelimit")
        .root_id("ratelimit")
        .configuration(r#"{"tokens_per_second": 1, "burst": 3, "key": "header:x-user"}"#)
        .start()
        .expect("the filter accepts its configuration")
}

/// Sends one request from `user` and returns what the filter did with it.
fn request(plugin: &Plugin, user: &str) -> Outcome {
    let mut stream = plugin.stream().expect("a stream");
    stream
        .request_headers(
            &[
                (":method", "GET"),
                (":path", "/"),
                (":authority", "svc"),
                ("x-user", user),
            ],
            true,
        )
        .expect("the filter runs")
}

#[test]
fn a_user_gets_the_burst_then_429_while_others_are_unaffected() {
    let plugin = limiter();
    for _ in 0..3 {
        assert_eq!(request(&plugin, "alice"), Outcome::Continue);
    }
    let Outcome::LocalReply(reply) = request(&plugin, "alice") else {
        panic!("the fourth request at once is limited");
    };
    assert_eq!(reply.status, 429);
    assert_eq!(reply.body_text(), "rate limited\n");
    assert_eq!(reply.header("retry-after"), Some("1"));
    assert_eq!(reply.header("x-ratelimit-limit"), Some("3"));
    assert_eq!(
        request(&plugin, "bob"),
        Outcome::Continue,
        "bob has a bucket of his own"
    );

    assert_eq!(plugin.counter("ratelimit_allowed_total"), Some(4));
    assert_eq!(plugin.counter("ratelimit_limited_total"), Some(1));
}

#[test]
fn the_bucket_refills_as_the_clock_moves() {
    let plugin = limiter();
    for _ in 0..3 {
        request(&plugin, "alice");
    }
    assert!(matches!(request(&plugin, "alice"), Outcome::LocalReply(_)));

    plugin.advance(Duration::from_secs(1));
    assert_eq!(
        request(&plugin, "alice"),
        Outcome::Continue,
        "one token a second"
    );
    assert!(matches!(request(&plugin, "alice"), Outcome::LocalReply(_)));

    plugin.advance(Duration::from_secs(10));
    for _ in 0..3 {
        assert_eq!(
            request(&plugin, "alice"),
            Outcome::Continue,
            "full again, not more"
        );
    }
    assert!(matches!(request(&plugin, "alice"), Outcome::LocalReply(_)));
}

#[test]
fn a_bad_configuration_is_refused_and_the_filter_says_why() {
    let error = Plugin::load(ratelimit_wasm())
        .configuration(r#"{"tokens_per_second": 0, "burst": 3, "key": "global"}"#)
        .start()
        .err()
        .expect("a rate of 0 is refused");
    let HarnessError::Start { logs, .. } = &error else {
        panic!("not a start error: {error}");
    };
    let said = logs
        .iter()
        .map(|line| line.message.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        said.contains("tokens_per_second"),
        "the log names the field: {said}"
    );
}
