;; The harness's test filter: a little of everything a real filter does.
;; - on_configure: logs `configured`, sets a 1 s tick, defines `probe_requests_total`;
;;   refuses the configuration `refuse`.
;; - request headers, by `:path`: `/deny...` answers 403 `denied`; `/call...` asks cluster
;;   `auth` (GET /check) and pauses until the answer, then continues on a 2xx, answers 403
;;   `forbidden` on anything else and 503 `no answer` when the call got no headers; any other
;;   path gets `x-probe: seen` (and `x-region` with the property `node.region` when the host
;;   has one) and counts in `probe_requests_total`.
;; - request body: buffered until the end of the stream, then let through.
;; - on_tick logs `tick`; on_log sets shared data `last-log` = `done`; response trailers trap.
(module
  (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
  (import "env" "proxy_get_buffer_bytes" (func $get_buffer (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_get_header_map_value" (func $get_header (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_add_header_map_value" (func $add_header (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_send_local_response"
    (func $local_response (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_http_call"
    (func $http_call (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_set_effective_context" (func $set_context (param i32) (result i32)))
  (import "env" "proxy_continue_stream" (func $continue_stream (param i32) (result i32)))
  (import "env" "proxy_set_tick_period_milliseconds" (func $set_tick (param i32) (result i32)))
  (import "env" "proxy_set_shared_data" (func $set_shared (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_define_metric" (func $define_metric (param i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_increment_metric" (func $increment_metric (param i32 i64) (result i32)))
  (import "env" "proxy_get_property" (func $get_property (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 0x200) "x-probe")
  (data (i32.const 0x210) "seen")
  (data (i32.const 0x220) ":path")
  (data (i32.const 0x230) "denied")
  (data (i32.const 0x240) "auth")
  ;; The call's headers, serialized: :method GET, :path /check, :authority auth (69 bytes).
  (data (i32.const 0x250)
    "\03\00\00\00\07\00\00\00\03\00\00\00\05\00\00\00\06\00\00\00\0a\00\00\00\04\00\00\00"
    ":method\00GET\00:path\00/check\00:authority\00auth\00")
  (data (i32.const 0x300) "probe_requests_total")
  (data (i32.const 0x320) "configured")
  (data (i32.const 0x330) "tick")
  (data (i32.const 0x340) "last-log")
  (data (i32.const 0x350) "done")
  (data (i32.const 0x370) ":status")
  (data (i32.const 0x380) "forbidden")
  (data (i32.const 0x390) "no answer")
  (data (i32.const 0x3a0) "node\00region")
  (data (i32.const 0x3b0) "x-region")
  (global $heap (mut i32) (i32.const 0x10000))
  (global $caller (mut i32) (i32.const 0))
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "malloc") (param $size i32) (result i32)
    (local $at i32)
    (local.set $at (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (local.get $size)))
    (local.get $at))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_configure") (param $root i32) (param $size i32) (result i32)
    ;; 7: the plugin configuration; `refuse` (6 bytes starting with `r`) is refused.
    (drop (call $get_buffer (i32.const 7) (i32.const 0) (local.get $size) (i32.const 0x100) (i32.const 0x104)))
    (if (i32.and (i32.eq (local.get $size) (i32.const 6))
                 (i32.eq (i32.load8_u (i32.load (i32.const 0x100))) (i32.const 0x72)))
      (then (return (i32.const 0))))
    (drop (call $log (i32.const 2) (i32.const 0x320) (i32.const 10)))
    (drop (call $set_tick (i32.const 1000)))
    (drop (call $define_metric (i32.const 0) (i32.const 0x300) (i32.const 20) (i32.const 0x10c)))
    (i32.const 1))
  (func $reply (param $status i32) (param $body i32) (param $len i32)
    (drop (call $local_response (local.get $status) (local.get $body) (local.get $len)
      (local.get $body) (local.get $len) (i32.const 0) (i32.const 0) (i32.const -1))))
  (func (export "proxy_on_request_headers") (param $ctx i32) (param i32 i32) (result i32)
    (local $second i32)
    (drop (call $get_header (i32.const 0) (i32.const 0x220) (i32.const 5) (i32.const 0x100) (i32.const 0x104)))
    (local.set $second (i32.load8_u (i32.add (i32.load (i32.const 0x100)) (i32.const 1))))
    (if (i32.eq (local.get $second) (i32.const 0x64)) ;; `/d...`
      (then
        (call $reply (i32.const 403) (i32.const 0x230) (i32.const 6))
        (return (i32.const 1))))
    (if (i32.eq (local.get $second) (i32.const 0x63)) ;; `/c...`
      (then
        (drop (call $http_call (i32.const 0x240) (i32.const 4) (i32.const 0x250) (i32.const 69)
          (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 500) (i32.const 0x108)))
        (global.set $caller (local.get $ctx))
        (return (i32.const 1))))
    (drop (call $add_header (i32.const 0) (i32.const 0x200) (i32.const 7) (i32.const 0x210) (i32.const 4)))
    ;; 0: Ok, the host knows `node.region`.
    (if (i32.eqz (call $get_property (i32.const 0x3a0) (i32.const 11) (i32.const 0x110) (i32.const 0x114)))
      (then (drop (call $add_header (i32.const 0) (i32.const 0x3b0) (i32.const 8)
        (i32.load (i32.const 0x110)) (i32.load (i32.const 0x114))))))
    (drop (call $increment_metric (i32.load (i32.const 0x10c)) (i64.const 1)))
    (i32.const 0))
  (func (export "proxy_on_http_call_response") (param i32 i32) (param $headers i32) (param i32 i32)
    (drop (call $set_context (global.get $caller)))
    (if (i32.eqz (local.get $headers))
      (then
        (call $reply (i32.const 503) (i32.const 0x390) (i32.const 9))
        (return)))
    ;; 6: the call's response headers.
    (drop (call $get_header (i32.const 6) (i32.const 0x370) (i32.const 7) (i32.const 0x100) (i32.const 0x104)))
    (if (i32.eq (i32.load8_u (i32.load (i32.const 0x100))) (i32.const 0x32)) ;; `2xx`
      (then (drop (call $continue_stream (i32.const 0))))
      (else (call $reply (i32.const 403) (i32.const 0x380) (i32.const 9)))))
  (func (export "proxy_on_request_body") (param i32 i32) (param $end i32) (result i32)
    (if (result i32) (local.get $end) (then (i32.const 0)) (else (i32.const 1))))
  (func (export "proxy_on_response_trailers") (param i32 i32) (result i32) unreachable)
  (func (export "proxy_on_tick") (param i32)
    (drop (call $log (i32.const 2) (i32.const 0x330) (i32.const 4))))
  (func (export "proxy_on_log") (param i32)
    (drop (call $set_shared (i32.const 0x340) (i32.const 8) (i32.const 0x350) (i32.const 4) (i32.const 0))))
  (func (export "proxy_on_done") (param i32) (result i32) (i32.const 1))
  (func (export "proxy_on_delete") (param i32)))
