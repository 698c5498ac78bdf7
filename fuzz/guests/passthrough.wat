;; The filter in the `http1_front` target's chain: it reads every header map and the first 4 KiB
;; of every body chunk (so what a client sends crosses into a guest), adds `x-fuzz-filter: seen`
;; to request and response headers (so a liveness check can tell the chain ran), and always
;; continues. It cannot trap: its allocator answers 0 (the host then returns a status) when the
;; data does not fit, and every callback starts with an empty heap.
(module
  (import "env" "proxy_get_header_map_pairs"
    (func $pairs (param i32 i32 i32) (result i32)))
  (import "env" "proxy_add_header_map_value"
    (func $add (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_get_buffer_bytes"
    (func $bytes (param i32 i32 i32 i32 i32) (result i32)))
  ;; 4 pages: the out-slots at 8 and 12, the header at 16, its value at 32, the heap from 1024.
  (memory (export "memory") 4)
  (data (i32.const 16) "x-fuzz-filter")
  (data (i32.const 32) "seen")
  (global $heap (mut i32) (i32.const 1024))
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_memory_allocate") (param $size i32) (result i32)
    (local $at i32)
    (local.set $at (global.get $heap))
    ;; The end, in 64 bits so a huge size cannot wrap: past the memory, refuse.
    (if (i64.gt_u
          (i64.add (i64.extend_i32_u (local.get $at)) (i64.extend_i32_u (local.get $size)))
          (i64.const 262144))
      (then (return (i32.const 0))))
    (global.set $heap (i32.add (local.get $at) (local.get $size)))
    (local.get $at))
  (func $reset (global.set $heap (i32.const 1024)))
  (func $read_map (param $map i32)
    (call $reset)
    (drop (call $pairs (local.get $map) (i32.const 8) (i32.const 12))))
  (func $read_body (param $buffer i32) (param $size i32)
    (call $reset)
    (if (i32.gt_u (local.get $size) (i32.const 4096))
      (then (local.set $size (i32.const 4096))))
    (drop (call $bytes (local.get $buffer) (i32.const 0) (local.get $size) (i32.const 8) (i32.const 12))))
  (func $mark (param $map i32)
    (drop (call $add (local.get $map) (i32.const 16) (i32.const 13) (i32.const 32) (i32.const 4))))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (call $read_map (i32.const 0))
    (call $mark (i32.const 0))
    (i32.const 0))
  (func (export "proxy_on_request_body") (param i32 i32 i32) (result i32)
    (call $read_body (i32.const 0) (local.get 1))
    (i32.const 0))
  (func (export "proxy_on_request_trailers") (param i32 i32) (result i32)
    (call $read_map (i32.const 1))
    (i32.const 0))
  (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32)
    (call $read_map (i32.const 2))
    (call $mark (i32.const 2))
    (i32.const 0))
  (func (export "proxy_on_response_body") (param i32 i32 i32) (result i32)
    (call $read_body (i32.const 1) (local.get 1))
    (i32.const 0))
  (func (export "proxy_on_response_trailers") (param i32 i32) (result i32)
    (call $read_map (i32.const 3))
    (i32.const 0))
)
