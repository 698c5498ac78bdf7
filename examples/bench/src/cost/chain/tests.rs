use wasmesh_tests::mesh::ClusterKind;

use super::*;
use crate::lb::cases::ECHO_HEADER;

/// The chain's description with made-up module paths: nothing is built or started.
fn config(chain: &Chain, backend: SocketAddr) -> MeshConfig {
    let upstreams = Upstreams {
        backend,
        spare: "127.0.0.1:10".parse().unwrap(),
    };
    chain.mesh_config(|_| Path::new("filter.wasm"), &upstreams)
}

#[test]
fn parses_known_names_once_each() {
    let chain: Chain = " metrics , lb".parse().unwrap();
    assert_eq!(chain.filters(), [Filter::Metrics, Filter::Lb]);
    assert_eq!(chain.step(1).label(), "metrics");
    assert!("metrics,nope"
        .parse::<Chain>()
        .unwrap_err()
        .contains("nope"));
    assert!("lb,lb".parse::<Chain>().is_err());
    assert!("".parse::<Chain>().is_err());
}

#[test]
fn without_lb_the_route_goes_to_the_static_backend() {
    let backend: SocketAddr = "127.0.0.1:9".parse().unwrap();
    let config = config(&"headers,metrics".parse().unwrap(), backend);
    assert!(matches!(&config.clusters[0].kind, ClusterKind::Static(list) if list == &[backend]));
    assert_eq!(config.listeners[0].filters, ["headers", "metrics"]);
    assert_eq!(config.histogram_buckets[0].0, "response_latency_ms");
    assert_eq!(config.histogram_buckets[0].1, LATENCY_BUCKETS_MS);
    assert_eq!(config.worker_count(), 1);
}

#[test]
fn with_lb_the_route_goes_to_original_dst_fed_by_lb() {
    let backend: SocketAddr = "127.0.0.1:9".parse().unwrap();
    let config = config(&"metrics,lb".parse().unwrap(), backend);
    assert!(matches!(&config.clusters[0].kind,
        ClusterKind::OriginalDst { header } if header == PICK_HEADER));
    assert_eq!(config.listeners[0].routes[0].cluster, "dynamic");
    let lb = config.plugin_named("lb").configuration.clone().unwrap();
    assert_eq!(lb["policy"], "round_robin");
    assert_eq!(lb["endpoints"][0]["address"], "127.0.0.1:9");
}

#[test]
fn no_filters_is_the_plain_router() {
    let config = config(&Chain::default(), "127.0.0.1:9".parse().unwrap());
    assert!(config.plugins.is_empty());
    assert!(config.histogram_buckets.is_empty());
}

#[test]
fn failover_needs_lb_after_it() {
    assert!("metrics,failover,lb".parse::<Chain>().is_ok());
    for bad in ["failover", "lb,failover", "failover,metrics"] {
        let err = bad.parse::<Chain>().unwrap_err();
        assert!(err.contains("needs \"lb\" after it"), "{bad}: {err}");
    }
}

#[test]
fn steps_add_failover_after_lb_in_request_order() {
    let chain: Chain = "metrics,failover,lb".parse().unwrap();
    let steps: Vec<String> = (0..=3).map(|n| chain.step(n).label()).collect();
    assert_eq!(
        steps,
        ["", "metrics", "metrics + lb", "metrics + failover + lb"]
    );
    let chain: Chain = "failover,lb,headers".parse().unwrap();
    let steps: Vec<String> = (1..=3).map(|n| chain.step(n).label()).collect();
    assert_eq!(steps, ["lb", "failover + lb", "failover + lb + headers"]);
}

#[test]
fn failover_retries_through_original_dst_over_backend_and_spare() {
    let backend: SocketAddr = "127.0.0.1:9".parse().unwrap();
    let config = config(&"metrics,failover,lb".parse().unwrap(), backend);
    assert_eq!(config.listeners[0].filters, ["metrics", "failover", "lb"]);
    assert_eq!(config.listeners[0].routes[0].cluster, "dynamic");
    let failover = config.plugin_named("failover");
    assert_eq!(failover.vm_id, config.plugin_named("lb").vm_id);
    let failover = failover.configuration.clone().unwrap();
    assert_eq!(failover["cluster"], "dynamic");
    assert_eq!(failover["response_header"], ECHO_HEADER);
    let endpoints: Vec<&str> = failover["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["address"].as_str().unwrap())
        .collect();
    assert_eq!(endpoints, ["127.0.0.1:9", "127.0.0.1:10"]);
    let lb = config.plugin_named("lb").configuration.clone().unwrap();
    assert_eq!(lb["endpoints"].as_array().unwrap().len(), 1);
}
