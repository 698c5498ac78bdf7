;; A test module for VMs that several plugins share. A plugin configuration of 4 bytes or more
;; asks for a tick every second from `proxy_on_configure`; `proxy_on_queue_ready` stores the
;; root context it ran in (4 bytes, little-endian) in shared data under `queue-ready`. A tick
;; in root context 1 moves to context 2 (`proxy_set_effective_context`) and makes an HTTP call
;; to cluster `c` from there; a tick in any other root grows the memory by a page.
;; `proxy_on_http_call_response` stores the context it ran in under `call-answered`.
(module
  (import "env" "proxy_set_tick_period_milliseconds" (func $set_tick (param i32) (result i32)))
  (import "env" "proxy_set_shared_data" (func $set_shared (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_set_effective_context" (func $set_context (param i32) (result i32)))
  (import "env" "proxy_http_call"
    (func $http_call (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0x200) "queue-ready")
  (data (i32.const 0x210) "call-answered")
  (data (i32.const 0x220) "c")
  ;; :method GET, :path /, :authority x, as serialized pairs (61 bytes).
  (data (i32.const 0x400)
    "\03\00\00\00\07\00\00\00\03\00\00\00\05\00\00\00\01\00\00\00\0a\00\00\00\01\00\00\00"
    ":method\00GET\00:path\00/\00:authority\00x\00")
  (global $heap (mut i32) (i32.const 0x1000))
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "malloc") (param $size i32) (result i32)
    (local $at i32)
    (local.set $at (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (local.get $size)))
    (local.get $at))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_configure") (param $root i32) (param $size i32) (result i32)
    (if (i32.ge_u (local.get $size) (i32.const 4))
      (then (drop (call $set_tick (i32.const 1000)))))
    (i32.const 1))
  (func (export "proxy_on_queue_ready") (param $root i32) (param i32)
    (i32.store (i32.const 0x300) (local.get $root))
    (drop (call $set_shared (i32.const 0x200) (i32.const 11) (i32.const 0x300) (i32.const 4)
      (i32.const 0))))
  (func (export "proxy_on_tick") (param $root i32)
    (if (i32.eq (local.get $root) (i32.const 1))
      (then
        (drop (call $set_context (i32.const 2)))
        (drop (call $http_call (i32.const 0x220) (i32.const 1) (i32.const 0x400) (i32.const 61)
          (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 1000)
          (i32.const 0x310))))
      (else (drop (memory.grow (i32.const 1))))))
  (func (export "proxy_on_http_call_response") (param $ctx i32) (param i32 i32 i32 i32)
    (i32.store (i32.const 0x300) (local.get $ctx))
    (drop (call $set_shared (i32.const 0x210) (i32.const 13) (i32.const 0x300) (i32.const 4)
      (i32.const 0)))))
