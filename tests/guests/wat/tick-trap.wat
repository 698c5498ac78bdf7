;; A root context that asks for a 100 ms tick in proxy_on_configure and traps in every
;; proxy_on_tick: a singleton that keeps failing, so its failures are counted and its VM is
;; rebuilt (and ticks, and fails) again.
(module
  (import "env" "proxy_set_tick_period_milliseconds"
    (func $set_tick (param i32) (result i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_memory_allocate") (param $size i32) (result i32)
    (local $at i32)
    (local.set $at (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (local.get $size)))
    (local.get $at))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_configure") (param i32 i32) (result i32)
    (drop (call $set_tick (i32.const 100)))
    (i32.const 1))
  (func (export "proxy_on_tick") (param i32)
    unreachable)
)
