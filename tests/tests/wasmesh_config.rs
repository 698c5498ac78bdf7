//! wasmesh's configuration: `wasmesh check` names the field path of what is wrong; `POST /reload`
//! swaps in a good file and keeps the old generation on a bad one; a malformed request gets 400.

use std::fs;
use std::time::Duration;

use serde_json::Value;
use wasmesh_tests::scenarios::config::served_generation;
use wasmesh_tests::scenarios::config::{check, check_text, headers_config};
use wasmesh_tests::{client, poll_until, raw, Backend, Wasmesh};

/// An upstream address for configurations that are only checked, never served.
fn unused_upstream() -> std::net::SocketAddr {
    "127.0.0.1:9".parse().unwrap()
}

#[test]
fn check_accepts_a_valid_configuration() {
    let outcome = check(&headers_config(unused_upstream(), 1));
    assert!(
        outcome.success,
        "a valid configuration was refused:\n{}",
        outcome.output
    );
}

#[test]
fn check_refuses_malformed_json() {
    let text = serde_json::to_string_pretty(&headers_config(unused_upstream(), 1)).unwrap();
    // Cut the file in the middle of the listeners, as a half-written file would be.
    let cut = text
        .find("\"listeners\"")
        .expect("the config has listeners")
        + 20;
    let outcome = check_text(&text[..cut]);
    outcome.assert_rejected(&[]);
    let lower = outcome.output.to_lowercase();
    assert!(
        lower.contains("line") && (lower.contains("eof") || lower.contains("expected")),
        "the message should say where the JSON breaks:\n{}",
        outcome.output
    );
}

#[test]
fn check_names_an_unknown_field() {
    let mut config = headers_config(unused_upstream(), 1);
    config["listeners"][0]["routes"][0]["match"]["prefx"] = Value::from("/typo");
    check(&config).assert_rejected(&["listeners[0].routes[0].match", "prefx"]);
}

#[test]
fn check_names_a_field_of_the_wrong_type() {
    let mut config = headers_config(unused_upstream(), 1);
    config["plugins"][0]["fail_open"] = Value::from("yes");
    check(&config).assert_rejected(&["plugins[0].fail_open"]);

    let mut config = headers_config(unused_upstream(), 1);
    config["listeners"][0]["routes"][0]["timeout_ms"] = Value::from("soon");
    check(&config).assert_rejected(&["listeners[0].routes[0].timeout_ms"]);
}

#[test]
fn check_names_a_dangling_filter() {
    let mut config = headers_config(unused_upstream(), 1);
    config["listeners"][0]["filters"][0] = Value::from("no-such-plugin");
    check(&config).assert_rejected(&["listeners[0].filters[0]", "no-such-plugin"]);
}

#[test]
fn check_names_a_dangling_cluster() {
    let mut config = headers_config(unused_upstream(), 1);
    config["listeners"][0]["routes"][0]["cluster"] = Value::from("nowhere");
    check(&config).assert_rejected(&["listeners[0].routes[0].cluster", "nowhere"]);
}

/// `GET /config` as JSON.
fn admin_config(proxy: &wasmesh_tests::Proxy) -> Value {
    let response = proxy.admin_get("/config");
    assert_eq!(response.status, 200, "/config: {}", response.text());
    response.json()
}

#[test]
fn hot_reload_swaps_good_files_and_keeps_serving_on_bad_ones() {
    let backend = Backend::start("b1");
    let proxy = Wasmesh::start(headers_config(backend.addr, 1));
    let url = proxy.url("main", "/reload-test");
    let file = proxy.run_dir().join("wasmesh.json");
    let reload_url = format!("http://{}/reload", proxy.admin);
    assert_eq!(served_generation(&url).as_deref(), Ok("1"));
    let first = admin_config(&proxy)["generation"]
        .as_u64()
        .expect("/config has a numeric generation");

    // A good file: the next requests carry the new configuration.
    let text = serde_json::to_string_pretty(&headers_config(backend.addr, 2)).unwrap();
    fs::write(&file, text).unwrap();
    let reply = client::post(&reload_url, &[], "");
    assert_eq!(reply.status, 200, "POST /reload: {}", reply.text());
    poll_until(
        "requests to carry x-gen: 2",
        Duration::from_secs(10),
        || match served_generation(&url)? {
            gen if gen == "2" => Ok(()),
            gen => Err(format!("x-gen is still {gen}")),
        },
    );
    let after_good = admin_config(&proxy);
    let second = after_good["generation"].as_u64().unwrap();
    assert!(
        second > first,
        "generation {first} -> {second} after a good reload"
    );
    assert!(
        after_good["last_reload_error"].is_null(),
        "no reload error expected: {after_good}"
    );

    // A bad file: rejected with the field's path, generation 2 keeps serving.
    let mut bad = headers_config(backend.addr, 3);
    bad["listeners"][0]["routes"][0]["match"]["prefx"] = Value::from("/typo");
    fs::write(&file, serde_json::to_string_pretty(&bad).unwrap()).unwrap();
    let reply = client::post(&reload_url, &[], "");
    assert_eq!(
        reply.status,
        400,
        "a bad file must be refused: {}",
        reply.text()
    );
    let error = reply.json()["error"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| panic!("400 without an error string: {}", reply.text()));
    assert!(
        error.contains("listeners[0].routes[0].match") && error.contains("prefx"),
        "the reload error should name the field: {error}"
    );
    for _ in 0..5 {
        assert_eq!(
            served_generation(&url).as_deref(),
            Ok("2"),
            "the old generation serves"
        );
    }
    let after_bad = admin_config(&proxy);
    assert_eq!(
        after_bad["generation"].as_u64(),
        Some(second),
        "a refused reload leaves the generation: {after_bad}"
    );
    let last_error = after_bad["last_reload_error"]
        .as_str()
        .unwrap_or_else(|| panic!("/config should show the last reload error: {after_bad}"));
    assert!(
        last_error.contains("prefx"),
        "last_reload_error: {last_error}"
    );
}

#[test]
fn malformed_request_gets_400() {
    let backend = Backend::start("b1");
    let proxy = Wasmesh::start(headers_config(backend.addr, 1));
    let reply = raw::exchange(
        proxy.listener("main"),
        b"GARBAGE\r\n\r\n",
        Duration::from_secs(5),
    );
    assert_eq!(
        raw::status_code(&reply),
        Some(400),
        "a request line that is not HTTP should get a 400; got {:?}",
        String::from_utf8_lossy(&reply)
    );
    assert_eq!(backend.requests_seen(), 0);
    // The listener still serves well-formed requests afterwards.
    assert_eq!(
        served_generation(&proxy.url("main", "/after")).as_deref(),
        Ok("1")
    );
}

#[test]
fn sighup_reloads_the_config_file() {
    let backend = Backend::start("b1");
    let proxy = Wasmesh::start(headers_config(backend.addr, 1));
    let url = proxy.url("main", "/sighup-test");
    assert_eq!(served_generation(&url).as_deref(), Ok("1"));
    let file = proxy.run_dir().join("wasmesh.json");
    let text = serde_json::to_string_pretty(&headers_config(backend.addr, 2)).unwrap();
    fs::write(&file, text).unwrap();
    let status = std::process::Command::new("kill")
        .args(["-HUP", &proxy.pid().to_string()])
        .status()
        .expect("running kill");
    assert!(status.success(), "kill -HUP failed");
    poll_until(
        "requests to carry x-gen: 2 after SIGHUP",
        Duration::from_secs(10),
        || match served_generation(&url)? {
            gen if gen == "2" => Ok(()),
            gen => Err(format!("x-gen is still {gen}")),
        },
    );
    assert!(
        admin_config(&proxy)["last_reload_error"].is_null(),
        "SIGHUP reload should succeed"
    );
}
