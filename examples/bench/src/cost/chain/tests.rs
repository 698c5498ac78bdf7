use wasmesh_tests::mesh::ClusterKind;

use super::*;

/// The chain's description with made-up module paths: nothing is built or started.
fn config(chain: &Chain, backend: SocketAddr) -> MeshConfig {
    chain.mesh_config(|_| Path::new("filter.wasm"), backend)
}

#[test]
fn parses_known_names_once_each() {
    let chain: Chain = " metrics , lb".parse().unwrap();
    assert_eq!(chain.filters(), [Filter::Metrics, Filter::Lb]);
    assert_eq!(chain.prefix(1).label(), "metrics");
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
