use super::*;

fn minimal() -> serde_json::Value {
    serde_json::json!({
        "admin": {"address": "127.0.0.1:0"},
        "plugins": [{"name": "p", "wasm": "p.wasm"}],
        "clusters": [{"name": "c", "endpoints": ["127.0.0.1:1"]}],
        "listeners": [{"name": "l", "address": "127.0.0.1:0", "filters": ["p"],
                       "routes": [{"match": {"prefix": "/"}, "cluster": "c"}]}]
    })
}

fn error_of(value: serde_json::Value) -> String {
    Config::parse(&value.to_string()).unwrap_err().to_string()
}

#[test]
fn minimal_config_parses_with_defaults() {
    let config = Config::parse(&minimal().to_string()).unwrap();
    assert_eq!(config.plugins[0].limits.memory_mb, 64);
    assert_eq!(config.listeners[0].routes[0].timeout_ms, 15_000);
    assert_eq!(config.clusters[0].kind, ClusterKind::Static);
}

#[test]
fn unknown_field_is_named_with_its_path() {
    let mut value = minimal();
    value["listeners"][0]["routes"][0]["clustr"] = "c".into();
    let err = error_of(value);
    assert!(err.contains("listeners[0].routes[0]"), "{err}");
    assert!(err.contains("clustr"), "{err}");
}

#[test]
fn wrong_type_is_named_with_its_path() {
    let mut value = minimal();
    value["plugins"][0]["fail_open"] = "yes".into();
    let err = error_of(value);
    assert!(err.contains("plugins[0].fail_open"), "{err}");
}

#[test]
fn dangling_references_are_rejected() {
    let mut value = minimal();
    value["listeners"][0]["filters"][0] = "nope".into();
    assert!(error_of(value).contains("listeners[0].filters[0]"));
    let mut value = minimal();
    value["listeners"][0]["routes"][0]["cluster"] = "nope".into();
    assert!(error_of(value).contains("listeners[0].routes[0].cluster"));
}

#[test]
fn string_configuration_is_passed_raw_and_json_serialised() {
    let mut value = minimal();
    value["plugins"][0]["configuration"] = "raw text".into();
    let config = Config::parse(&value.to_string()).unwrap();
    assert_eq!(config.plugins[0].configuration_bytes(), b"raw text");
    let mut value = minimal();
    value["plugins"][0]["configuration"] = serde_json::json!({"a": 1});
    let config = Config::parse(&value.to_string()).unwrap();
    assert_eq!(config.plugins[0].configuration_bytes(), br#"{"a":1}"#);
}

#[test]
fn histogram_buckets_are_checked() {
    let mut value = minimal();
    value["stats"] = serde_json::json!({"histogram_buckets": [
        {"prefix": "response_latency_ms", "buckets": [1, 2, 5]},
        {"prefix": "size", "buckets": [10, 5]}
    ]});
    assert!(error_of(value).contains("stats.histogram_buckets[1].buckets"));
    let mut value = minimal();
    value["stats"] = serde_json::json!({"histogram_buckets": [{"prefix": "", "buckets": [1]}]});
    assert!(error_of(value).contains("stats.histogram_buckets[0].prefix"));
    let mut value = minimal();
    value["stats"] =
        serde_json::json!({"histogram_buckets": [{"prefix": "a", "buckets": [1.5, 3]}]});
    let rules = Config::parse(&value.to_string())
        .unwrap()
        .stats
        .bucket_rules();
    assert_eq!(rules[0].bounds, vec![1.5, 3.0]);
}

#[test]
fn dns_entries_parse_with_defaults_and_name_their_errors() {
    let mut value = minimal();
    value["plugins"][0]["vm_id"] = "mesh".into();
    value["dns"] = serde_json::json!([
        {"service": "web", "name": "web.mesh.test", "port": 8080, "vm_id": "mesh"},
        {"service": "api", "name": "_http._tcp.api.mesh.test", "type": "SRV", "vm_id": "mesh",
         "resolver": "127.0.0.1:5353"}
    ]);
    let config = Config::parse(&value.to_string()).unwrap();
    let web = &config.dns[0];
    assert_eq!(web.kind, crate::dns::config::RecordKind::A);
    assert_eq!((web.refresh_ms, web.min_refresh_ms), (5000, 500));
    assert_eq!(
        config.dns[1].resolver,
        Some("127.0.0.1:5353".parse().unwrap())
    );
    let with = |field: &str, v: serde_json::Value| {
        let mut value = value.clone();
        value["dns"][1][field] = v;
        error_of(value)
    };
    let err = with("port", 80.into());
    assert!(err.contains("dns[1].port") && err.contains("SRV"), "{err}");
    let err = with("vm_id", "other".into());
    assert!(err.contains("dns[1].vm_id"), "{err}");
    let err = with("service", "web".into());
    assert!(
        err.contains("dns[1].service") && err.contains("duplicate"),
        "{err}"
    );
    let err = with("type", "MX".into());
    assert!(err.contains("dns[1].type"), "{err}");
    let err = with("refersh_ms", 1.into());
    assert!(
        err.contains("dns[1]") && err.contains("refersh_ms"),
        "{err}"
    );
    let err = with("name", "bad..name".into());
    assert!(err.contains("dns[1].name"), "{err}");
    let mut no_port = value.clone();
    no_port["dns"][0].as_object_mut().unwrap().remove("port");
    assert!(error_of(no_port).contains("dns[0].port"));
    let mut tight = value.clone();
    tight["dns"][0]["refresh_ms"] = 100.into();
    assert!(error_of(tight).contains("dns[0].refresh_ms"));
}

#[test]
fn circuit_breakers_default_to_envoys_thresholds() {
    let config = Config::parse(&minimal().to_string()).unwrap();
    let breakers = config.clusters[0].circuit_breakers;
    assert_eq!(breakers.max_connections, 1024);
    assert_eq!(breakers.max_pending_requests, 1024);
    assert_eq!(breakers.max_requests, 1024);
    assert_eq!(config.listeners[0].max_connections, None);
}

#[test]
fn admission_limits_are_checked_with_their_paths() {
    let mut value = minimal();
    value["clusters"][0]["circuit_breakers"] = serde_json::json!({"max_requests": 0});
    let err = error_of(value);
    assert!(
        err.contains("clusters[0].circuit_breakers.max_requests"),
        "{err}"
    );
    let mut value = minimal();
    value["listeners"][0]["max_connections"] = 0.into();
    let err = error_of(value);
    assert!(err.contains("listeners[0].max_connections"), "{err}");
}

#[test]
fn allowed_destinations_are_cidrs_of_an_original_dst_cluster() {
    let mut value = minimal();
    value["clusters"][0] = serde_json::json!({"name": "c", "type": "original_dst",
        "allowed_destinations": ["10.0.0.0/8", "not a network"]});
    let err = error_of(value);
    assert!(err.contains("clusters[0].allowed_destinations[1]"), "{err}");
    let mut value = minimal();
    value["clusters"][0]["allowed_destinations"] = serde_json::json!(["10.0.0.0/8"]);
    let err = error_of(value);
    assert!(err.contains("clusters[0].allowed_destinations"), "{err}");
    assert!(err.contains("only an original_dst cluster"), "{err}");
}

#[test]
fn upgrades_are_websocket_only_and_routes_override_the_listener() {
    let mut value = minimal();
    value["listeners"][0]["upgrade_configs"] = serde_json::json!([{"upgrade_type": "CONNECT"}]);
    let err = error_of(value);
    assert!(
        err.contains("listeners[0].upgrade_configs[0].upgrade_type"),
        "{err}"
    );
    let mut value = minimal();
    value["listeners"][0]["upgrade_configs"] = serde_json::json!([{"upgrade_type": "websocket"}]);
    value["listeners"][0]["routes"][0]["upgrade_configs"] =
        serde_json::json!([{"upgrade_type": "WebSocket", "enabled": false}]);
    let config = Config::parse(&value.to_string()).unwrap();
    let listener = &config.listeners[0];
    assert!(!listener.allows_upgrade(&listener.routes[0], "websocket"));
    let mut open = listener.routes[0].clone();
    open.upgrade_configs.clear();
    assert!(listener.allows_upgrade(&open, "websocket"));
    assert!(!listener.allows_upgrade(&open, "spdy/3"));
}

#[test]
fn h2_stream_limit_defaults_to_100_and_must_be_positive() {
    let config = Config::parse(&minimal().to_string()).unwrap();
    let options = config.listeners[0].http2_protocol_options;
    assert_eq!(options.max_concurrent_streams, 100);
    let mut value = minimal();
    value["listeners"][0]["http2_protocol_options"] =
        serde_json::json!({"max_concurrent_streams": 0});
    let err = error_of(value);
    assert!(
        err.contains("listeners[0].http2_protocol_options.max_concurrent_streams"),
        "{err}"
    );
}

#[test]
fn allowed_endpoints_name_services_of_an_original_dst_cluster() {
    let mut value = minimal();
    value["clusters"][0]["allowed_endpoints"] = serde_json::json!({"services": ["web"]});
    let err = error_of(value);
    assert!(err.contains("clusters[0].allowed_endpoints"), "{err}");
    let mut value = minimal();
    value["clusters"][0] = serde_json::json!({"name": "c", "type": "original_dst",
        "allowed_endpoints": {"vm_id": "mesh", "services": []}});
    let err = error_of(value);
    assert!(
        err.contains("clusters[0].allowed_endpoints.services"),
        "{err}"
    );
}

#[test]
fn plugins_in_no_listener_or_marked_are_singletons_and_marked_ones_stay_out_of_listeners() {
    let config = Config::parse(&minimal().to_string()).unwrap();
    assert!(config.singletons().is_empty());
    let mut value = minimal();
    let plugins = value["plugins"].as_array_mut().unwrap();
    plugins.push(serde_json::json!({"name": "bg", "wasm": "bg.wasm"}));
    plugins.push(serde_json::json!({"name": "job", "wasm": "j.wasm", "singleton": true}));
    let config = Config::parse(&value.to_string()).unwrap();
    assert_eq!(config.singletons(), ["bg", "job"]);
    let mut value = minimal();
    value["plugins"][0]["singleton"] = true.into();
    let err = error_of(value);
    assert!(err.contains("listeners[0].filters[0]"), "{err}");
    assert!(err.contains("plugins[0].singleton"), "{err}");
}

#[test]
fn fetch_files_are_relative_to_the_config_file() {
    let mut value = minimal();
    value["plugins"][0]["wasm"] = "oci://registry.example.com/team/p:1".into();
    value["plugins"][0]["fetch"] = serde_json::json!({
        "trusted_ca": "certs/ca.pem", "credentials": "/etc/wasmesh/docker.json"
    });
    let mut config = Config::parse(&value.to_string()).unwrap();
    config.resolve_paths(Path::new("/srv/mesh"));
    let fetch = &config.plugins[0].fetch;
    assert_eq!(
        fetch.trusted_ca.as_deref(),
        Some(Path::new("/srv/mesh/certs/ca.pem"))
    );
    assert_eq!(
        fetch.credentials.as_deref(),
        Some(Path::new("/etc/wasmesh/docker.json"))
    );
    assert_eq!(
        config.plugins[0].wasm,
        Path::new("oci://registry.example.com/team/p:1"),
        "an image is not a path"
    );
}

#[test]
fn two_listeners_may_not_share_an_address() {
    let mut value = minimal();
    value["listeners"][0]["address"] = "127.0.0.1:18080".into();
    let mut second = value["listeners"][0].clone();
    second["name"] = "m".into();
    value["listeners"].as_array_mut().unwrap().push(second);
    let err = error_of(value.clone());
    assert!(
        err.contains("listeners[1].address") && err.contains("listener \"l\"'s address too"),
        "{err}"
    );
    value["listeners"][0]["address"] = "127.0.0.1:0".into();
    value["listeners"][1]["address"] = "127.0.0.1:0".into();
    Config::parse(&value.to_string()).expect("port 0 twice: two ports");
}

#[test]
fn tcp_proxy_listeners_are_checked_by_field() {
    let tcp = |listener: serde_json::Value| {
        let mut value = minimal();
        value["clusters"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({"name": "dst", "type": "original_dst"}));
        value["listeners"][0] = listener;
        value
    };
    let good = tcp(
        serde_json::json!({"name": "t", "address": "127.0.0.1:0", "filters": ["p"],
                                      "tcp_proxy": {"cluster": "c"}}),
    );
    let config = Config::parse(&good.to_string()).unwrap();
    let proxy = config.listeners[0].tcp_proxy.as_ref().unwrap();
    assert_eq!(
        (proxy.cluster.as_str(), proxy.idle_timeout_ms),
        ("c", 3_600_000)
    );
    let err = error_of(tcp(
        serde_json::json!({"name": "t", "address": "127.0.0.1:0",
                                              "tcp_proxy": {"cluster": "nope"}}),
    ));
    assert!(
        err.contains("listeners[0].tcp_proxy.cluster") && err.contains("nope"),
        "{err}"
    );
    let err = error_of(tcp(
        serde_json::json!({"name": "t", "address": "127.0.0.1:0",
                                              "tcp_proxy": {"cluster": "dst"}}),
    ));
    assert!(
        err.contains("listeners[0].tcp_proxy.cluster") && err.contains("original_dst"),
        "{err}"
    );
    let err = error_of(tcp(
        serde_json::json!({"name": "t", "address": "127.0.0.1:0",
        "tcp_proxy": {"cluster": "c"}, "routes": [{"match": {"prefix": "/"}, "cluster": "c"}]}),
    ));
    assert!(err.contains("listeners[0].routes"), "{err}");
    let err = error_of(tcp(
        serde_json::json!({"name": "t", "address": "127.0.0.1:0",
                                              "tcp_proxy": {"cluster": "c", "idle": 1}}),
    ));
    assert!(
        err.contains("listeners[0].tcp_proxy") && err.contains("idle"),
        "{err}"
    );
    let mut with_canary = good.clone();
    with_canary["plugins"][0]["canary"] =
        serde_json::json!({"share_percent": 10, "configuration": {"v": 2}});
    let err = error_of(with_canary);
    assert!(
        err.contains("plugins[0].canary") && err.contains("TCP listener \"t\""),
        "{err}"
    );
}
