#!/usr/bin/env bash
# Counts the user-space instructions one wasmesh worker spends per proxied request, under
# valgrind's callgrind: deterministic to about 0.3 % from run to run, where requests/s and CPU
# time on a shared 2-core VM move 3-10 %. Kernel time (the sockets) is not counted, nor are
# cache misses: it says what a change does to the proxy's own work, not how fast it runs.
#
#   examples/bench/count-instructions.sh <wasmesh binary> plain|chain [filters dir]
#
# plain: one listener, one static cluster. chain: metrics + failover + lb in front of an
# original_dst cluster, the bench's chain, with the .wasm files of [filters dir]
# (target/wasm32-wasip1/wasm by default: `cargo xtask build-filters` or `cargo xtask test`
# builds them). Needs valgrind (`apt install valgrind`), wrk, and a release build of
# wasmesh-backend (`cargo build --release -p wasmesh-backend`). Ports 8081, 8082, 9951 and
# 10100 on 127.0.0.1 must be free. Prints requests counted and instructions per request,
# without the admin live view's periodic sampler, whose cost per request depends on how many
# requests valgrind's slowed-down proxy got through in the time.
set -euo pipefail
bin=$(realpath "$1")
mode=$2
filters=$(realpath "${3:-target/wasm32-wasip1/wasm}")
cd "$(dirname "$0")/../.."
backend=target/release/wasmesh-backend
work=$(mktemp -d)
pids=()
cleanup() {
    kill "${pids[@]}" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

case $mode in
plain)
    filters_json='[]'
    plugins='[]'
    clusters='[{"name": "b", "endpoints": ["127.0.0.1:8081"]}]'
    cluster=b
    ;;
chain)
    plugins=$(cat <<JSON
[{"name": "metrics", "wasm": "$filters/wasmesh_filter_metrics.wasm", "vm_id": "metrics",
  "configuration": {"direction": "inbound", "routes": [{"name": "hello", "path": "/hello"}]}},
 {"name": "failover", "wasm": "$filters/wasmesh_filter_failover.wasm", "vm_id": "mesh",
  "configuration": {"service": "web", "cluster": "dynamic", "endpoints": [{"address": "127.0.0.1:8081"}, {"address": "127.0.0.1:8082"}], "response_header": "x-wasmesh-endpoint"}},
 {"name": "lb", "wasm": "$filters/wasmesh_filter_lb.wasm", "vm_id": "mesh",
  "configuration": {"service": "web", "policy": "round_robin", "endpoints": [{"address": "127.0.0.1:8081", "weight": 1}], "response_header": "x-wasmesh-endpoint"}}]
JSON
    )
    filters_json='["metrics", "failover", "lb"]'
    clusters='[{"name": "picked", "type": "original_dst", "header": "x-envoy-original-dst-host"},
               {"name": "dynamic", "type": "original_dst", "header": "x-envoy-original-dst-host"}]'
    cluster=picked
    ;;
*)
    echo "mode: plain or chain, not $mode" >&2
    exit 2
    ;;
esac
cat >"$work/config.json" <<JSON
{"admin": {"address": "127.0.0.1:9951"}, "workers": 1, "plugins": $plugins, "clusters": $clusters,
 "listeners": [{"name": "main", "address": "127.0.0.1:10100", "filters": $filters_json,
                "routes": [{"match": {"prefix": "/"}, "cluster": "$cluster", "timeout_ms": 15000}]}]}
JSON

for port in 8081 8082; do
    "$backend" --listen "127.0.0.1:$port" >/dev/null 2>&1 &
    pids+=($!)
done
# Instrumentation starts switched off: start-up and the warm-up are not counted.
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$work/out" \
    "$bin" run -c "$work/config.json" >"$work/log" 2>&1 &
proxy=$!
pids+=("$proxy")
for _ in $(seq 300); do
    curl -sf -o /dev/null http://127.0.0.1:9951/ready && break
    sleep 0.2
done
curl -sf -o /dev/null http://127.0.0.1:9951/ready || { cat "$work/log" >&2; exit 1; }
wrk -t1 -c8 -d3s http://127.0.0.1:10100/ >/dev/null
callgrind_control -i on "$proxy" >/dev/null 2>&1
load=$(wrk -t1 -c8 -d5s http://127.0.0.1:10100/)
callgrind_control -i off "$proxy" >/dev/null 2>&1
callgrind_control -d "$proxy" >/dev/null 2>&1
requests=$(awk '/requests in/{print $1}' <<<"$load")
errors=$(grep -c "Non-2xx\|Socket errors" <<<"$load" || true)
[ "$errors" = 0 ] || { echo "wrk saw errors:" >&2; echo "$load" >&2; exit 1; }
annotated=$(callgrind_annotate --auto=no --inclusive=yes --threshold=100 "$work/out.1" | tr -d ,)
total=$(awk '/PROGRAM TOTALS/{print $1; exit}' <<<"$annotated")
sampler=$(awk '/admin::live::sample::/{print $1; exit}' <<<"$annotated")
echo "$(basename "$bin") $mode: $requests requests, $(( (total - ${sampler:-0}) / requests )) instructions per request"
