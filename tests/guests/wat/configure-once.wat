;; proxy_on_configure succeeds once per VM id: it refuses when shared data key `once` exists,
;; and writes it when not. A reload's trial (on scratch stores) and the first worker succeed;
;; every further worker's VM refuses, as a worker-only failure would.
(module
  (import "env" "proxy_get_shared_data"
    (func $get (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_set_shared_data"
    (func $set (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  ;; The key at 16, the value at 32; the get's return slots at 64, 68 and 72.
  (data (i32.const 16) "once")
  (data (i32.const 32) "x")
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
    ;; Status 0 (Ok): the key exists, so another VM of this VM id configured first.
    (if (i32.eqz (call $get (i32.const 16) (i32.const 4) (i32.const 64) (i32.const 68) (i32.const 72)))
      (then (return (i32.const 0))))
    (drop (call $set (i32.const 16) (i32.const 4) (i32.const 32) (i32.const 1) (i32.const 0)))
    (i32.const 1))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (i32.const 0))
)
