;; A test module for VMs that several plugins share. A plugin configuration of 4 bytes or more
;; asks for a tick every second from `proxy_on_configure`; `proxy_on_queue_ready` stores the
;; root context it ran in (4 bytes, little-endian) in shared data under `queue-ready`.
(module
  (import "env" "proxy_set_tick_period_milliseconds" (func $set_tick (param i32) (result i32)))
  (import "env" "proxy_set_shared_data" (func $set_shared (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0x200) "queue-ready")
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
      (i32.const 0)))))
