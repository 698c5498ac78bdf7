use std::net::SocketAddr;
use std::path::Path;

use serde_json::json;

use super::*;

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn sample() -> MeshConfig {
    let plugin = Plugin::new("hdr", Path::new("/x/h.wasm")).configuration(json!({"a": 1}));
    MeshConfig::single(vec![plugin], [addr("127.0.0.1:8081")]).cluster(Cluster::original_dst(
        "dynamic",
        "x-envoy-original-dst-host",
    ))
}

#[test]
fn yaml_nests_maps_and_lists() {
    let value = json!({"a": {"b": [{"c": 1, "@type": "t"}, 2, []]}, "e": {}});
    let expected = "\
a:
  b:
    - \"@type\": \"t\"
      c: 1
    - 2
    - []
e: {}
";
    assert_eq!(to_yaml(&value), expected);
}

#[test]
fn envoy_plugin_configuration_is_a_string_value() {
    let bootstrap = envoy::bootstrap(&sample());
    let hcm = &bootstrap["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
        ["typed_config"];
    let wasm = &hcm["http_filters"][0]["typed_config"]["config"];
    assert_eq!(wasm["name"], "hdr");
    assert_eq!(wasm["configuration"]["value"], r#"{"a":1}"#);
    assert_eq!(wasm["vm_config"]["code"]["local"]["filename"], "/x/h.wasm");
    assert_eq!(hcm["http_filters"][1]["name"], "envoy.filters.http.router");
    let clusters = &bootstrap["static_resources"]["clusters"];
    assert_eq!(clusters[1]["type"], "ORIGINAL_DST");
    assert_eq!(
        clusters[1]["original_dst_lb_config"]["http_header_name"],
        "x-envoy-original-dst-host"
    );
}

#[test]
fn wasmesh_config_follows_the_schema() {
    let config = sample().to_wasmesh_json();
    assert_eq!(config["plugins"][0]["configuration"], json!({"a": 1}));
    assert_eq!(config["listeners"][0]["filters"], json!(["hdr"]));
    assert_eq!(
        config["listeners"][0]["routes"][0],
        json!({"match": {"prefix": "/"}, "cluster": "backend", "timeout_ms": 15000})
    );
    assert_eq!(
        config["clusters"][0]["endpoints"],
        json!(["127.0.0.1:8081"])
    );
    assert_eq!(
        config["clusters"][1],
        json!({"name": "dynamic", "type": "original_dst", "header": "x-envoy-original-dst-host"})
    );
}

#[test]
fn durations_use_protobuf_json_form() {
    let route = Route::prefix("/", "c").timeout_ms(1500);
    let config = MeshConfig::new().listener(Listener::new("l").route(route));
    let yaml = config.to_envoy_yaml();
    assert!(yaml.contains("timeout: \"1.5s\""), "{yaml}");
}

#[test]
fn a_singleton_is_a_bootstrap_extension_in_envoy_and_marked_in_wasmesh() {
    let job = Plugin::new("job", Path::new("/x/j.wasm"))
        .root_id("r")
        .singleton();
    let config = sample().plugin(job);
    let bootstrap = envoy::bootstrap(&config);
    let extensions = bootstrap["bootstrap_extensions"].as_array().unwrap();
    assert_eq!(extensions.len(), 1, "{bootstrap}");
    let service = &extensions[0]["typed_config"];
    assert_eq!(service["singleton"], true);
    assert_eq!(service["config"]["name"], "job");
    assert_eq!(service["config"]["root_id"], "r");
    let plugins = &config.to_wasmesh_json()["plugins"];
    assert_eq!(plugins[1]["singleton"], true);
    assert!(plugins[0].get("singleton").is_none(), "{plugins}");
}
