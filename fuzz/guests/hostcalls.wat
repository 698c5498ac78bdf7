;; The `hostcalls` target's guest: an interpreter of calls the host wrote into its memory. Every
;; callback but the three the host runs while instantiating makes the calls in order, each with
;; the ten i32 arguments the input chose, and keeps each call's status. The imports and the
;; wrappers ($op0..) are generated from the list in src/hostcalls/ops.rs (the @ lines below).
;;
;; Memory (2 pages), written by the host before the callback:
;;   0x00000..0x10000  the input's bytes, for the calls to read and write
;;   0x10000           how many calls (at most 64); 0x10004 allocator override (0: none)
;;   0x10010           the calls: op number, then 10 arguments (44 bytes each)
;;   0x11000           each call's status, stored as it returns
;;   0x12000..0x20000  the heap the allocator hands out
(module
;; @IMPORTS
  (type $op (func (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (global $heap (mut i32) (i32.const 0x12000))
  (func (export "proxy_abi_version_0_2_1"))

  ;; Bump allocation, starting over when the heap is used up; the input may instead make it
  ;; answer a pointer of its choice (0, or one past the memory), which the host must survive.
  (func (export "proxy_on_memory_allocate") (param $size i32) (result i32)
    (local $at i32)
    (if (i32.load (i32.const 0x10004))
      (then (return (i32.load (i32.const 0x10004)))))
    (if (i64.gt_u
          (i64.add (i64.extend_i32_u (global.get $heap)) (i64.extend_i32_u (local.get $size)))
          (i64.const 0x20000))
      (then (global.set $heap (i32.const 0x12000))))
    (local.set $at (global.get $heap))
    (global.set $heap (i32.add (local.get $at) (local.get $size)))
    (local.get $at))

  ;; A proxy_status_t the ABI defines (0-4, 6-8, 10, 12), else trap.
  (func $checked_status (param $s i32) (result i32)
    (if (i32.or
          (i32.gt_u (local.get $s) (i32.const 12))
          (i32.eqz (i32.and (i32.shl (i32.const 1) (local.get $s)) (i32.const 0x15DF))))
      (then (unreachable)))
    (local.get $s))

  ;; An errno wasmesh's WASI answers (success, badf, notdir, fault, inval, noent, nosys, notsup:
  ;; Envoy's stubs), else trap.
  (func $checked_errno (param $e i32) (result i32)
    (if (i32.or
          (i32.gt_u (local.get $e) (i32.const 63))
          (i64.eqz (i64.and
            (i64.shl (i64.const 1) (i64.extend_i32_u (local.get $e)))
            (i64.const 0x410100010300101))))
      (then (unreachable)))
    (local.get $e))

;; @OPS
  (func $run
    (local $i i32) (local $n i32) (local $call i32)
    (local.set $n (i32.load (i32.const 0x10000)))
    (if (i32.gt_u (local.get $n) (i32.const 64))
      (then (local.set $n (i32.const 64))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $call (i32.add (i32.const 0x10010) (i32.mul (local.get $i) (i32.const 44))))
        (i32.store (i32.add (i32.const 0x11000) (i32.shl (local.get $i) (i32.const 2)))
          (call_indirect $ops (type $op)
            (i32.load offset=4 (local.get $call))
            (i32.load offset=8 (local.get $call))
            (i32.load offset=12 (local.get $call))
            (i32.load offset=16 (local.get $call))
            (i32.load offset=20 (local.get $call))
            (i32.load offset=24 (local.get $call))
            (i32.load offset=28 (local.get $call))
            (i32.load offset=32 (local.get $call))
            (i32.load offset=36 (local.get $call))
            (i32.load offset=40 (local.get $call))
            (i32.rem_u (i32.load (local.get $call)) (table.size $ops))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))

  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (call $run) (i32.const 0))
  (func (export "proxy_on_request_body") (param i32 i32 i32) (result i32) (call $run) (i32.const 0))
  (func (export "proxy_on_request_trailers") (param i32 i32) (result i32) (call $run) (i32.const 0))
  (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32) (call $run) (i32.const 0))
  (func (export "proxy_on_response_body") (param i32 i32 i32) (result i32) (call $run) (i32.const 0))
  (func (export "proxy_on_response_trailers") (param i32 i32) (result i32) (call $run) (i32.const 0))
  (func (export "proxy_on_log") (param i32) (call $run))
  (func (export "proxy_on_done") (param i32) (result i32) (call $run) (i32.const 1))
  (func (export "proxy_on_tick") (param i32) (call $run))
  (func (export "proxy_on_queue_ready") (param i32 i32) (call $run))
  (func (export "proxy_on_http_call_response") (param i32 i32 i32 i32 i32) (call $run))
)
