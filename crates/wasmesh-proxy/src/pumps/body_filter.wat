;; A test filter for the body pumps. The first byte of its plugin configuration says what it
;; does with bodies, both ways:
;;   `b`            buffers (StopIterationAndBuffer) until the end of the stream;
;;   `r`            answers 403 `refused` on the first request body chunk;
;;   anything else  lets every chunk through.
(module
  (import "env" "proxy_get_buffer_bytes" (func $get_buffer (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_send_local_response"
    (func $local_response (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 0x200) "refused")
  (global $heap (mut i32) (i32.const 0x10000))
  (global $mode (mut i32) (i32.const 0))
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "malloc") (param $size i32) (result i32)
    (local $at i32)
    (local.set $at (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (local.get $size)))
    (local.get $at))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_configure") (param $root i32) (param $size i32) (result i32)
    ;; 7: the plugin configuration.
    (drop (call $get_buffer (i32.const 7) (i32.const 0) (local.get $size) (i32.const 0x100) (i32.const 0x104)))
    (global.set $mode (i32.load8_u (i32.load (i32.const 0x100))))
    (i32.const 1))
  (func $body (param $end i32) (result i32)
    (if (i32.and (i32.eq (global.get $mode) (i32.const 0x62)) (i32.eqz (local.get $end)))
      (then (return (i32.const 1)))) ;; StopIterationAndBuffer
    (i32.const 0))
  (func (export "proxy_on_request_body") (param i32 i32) (param $end i32) (result i32)
    (if (i32.eq (global.get $mode) (i32.const 0x72))
      (then
        (drop (call $local_response (i32.const 403) (i32.const 0x200) (i32.const 7)
          (i32.const 0x200) (i32.const 7) (i32.const 0) (i32.const 0) (i32.const -1)))
        (return (i32.const 1))))
    (call $body (local.get $end)))
  (func (export "proxy_on_response_body") (param i32 i32) (param $end i32) (result i32)
    (call $body (local.get $end)))
  (func (export "proxy_on_done") (param i32) (result i32) (i32.const 1))
  (func (export "proxy_on_delete") (param i32)))
