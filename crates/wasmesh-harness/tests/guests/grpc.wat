;; The harness's gRPC test filter. On each tick the root makes a unary call to cluster `rls`
;; (`test.Svc/Check`, metadata `x-md: 1`, message `ping`, 1 s deadline) and opens a stream
;; (`test.Svc/Watch`) on which it sends `hello` and ends its side. It logs at info what comes back:
;; a message's bytes, the initial metadata's `x-md`, `trailers` and `closed`.
(module
  (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
  (import "env" "proxy_get_buffer_bytes" (func $get_buffer (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_get_header_map_value" (func $get_header (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_grpc_call"
    (func $grpc_call (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_grpc_stream"
    (func $grpc_stream (param i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_grpc_send" (func $grpc_send (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 0x200) "rls")
  (data (i32.const 0x210) "test.Svc")
  (data (i32.const 0x220) "Check")
  (data (i32.const 0x230) "Watch")
  ;; Metadata, serialized: one pair, x-md: 1.
  (data (i32.const 0x240) "\01\00\00\00\04\00\00\00\01\00\00\00x-md\001\00")
  (data (i32.const 0x260) "ping")
  (data (i32.const 0x270) "hello")
  (data (i32.const 0x280) "x-md")
  (data (i32.const 0x290) "trailers")
  (data (i32.const 0x2a0) "closed")
  (global $heap (mut i32) (i32.const 0x10000))
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "malloc") (param $size i32) (result i32)
    (local $at i32)
    (local.set $at (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (local.get $size)))
    (local.get $at))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_tick") (param $root i32)
    (drop (call $grpc_call
      (i32.const 0x200) (i32.const 3) (i32.const 0x210) (i32.const 8) (i32.const 0x220) (i32.const 5)
      (i32.const 0x240) (i32.const 19) (i32.const 0x260) (i32.const 4) (i32.const 1000)
      (i32.const 0x100)))
    (drop (call $grpc_stream
      (i32.const 0x200) (i32.const 3) (i32.const 0x210) (i32.const 8) (i32.const 0x230) (i32.const 5)
      (i32.const 0x240) (i32.const 19) (i32.const 0x104)))
    (drop (call $grpc_send (i32.load (i32.const 0x104)) (i32.const 0x270) (i32.const 5) (i32.const 1))))
  ;; 5: the received message, logged as it came.
  (func (export "proxy_on_grpc_receive") (param $root i32) (param $token i32) (param $size i32)
    (drop (call $get_buffer (i32.const 5) (i32.const 0) (local.get $size) (i32.const 0x108) (i32.const 0x10c)))
    (drop (call $log (i32.const 2) (i32.load (i32.const 0x108)) (i32.load (i32.const 0x10c)))))
  ;; 4: the initial metadata; its x-md value is logged.
  (func (export "proxy_on_grpc_receive_initial_metadata") (param i32 i32 i32)
    (if (i32.eqz (call $get_header (i32.const 4) (i32.const 0x280) (i32.const 4) (i32.const 0x108) (i32.const 0x10c)))
      (then (drop (call $log (i32.const 2) (i32.load (i32.const 0x108)) (i32.load (i32.const 0x10c)))))))
  (func (export "proxy_on_grpc_receive_trailing_metadata") (param i32 i32 i32)
    (drop (call $log (i32.const 2) (i32.const 0x290) (i32.const 8))))
  (func (export "proxy_on_grpc_close") (param i32 i32 i32)
    (drop (call $log (i32.const 2) (i32.const 0x2a0) (i32.const 6)))))
