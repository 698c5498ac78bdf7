;; A test filter for the chain's in-process tests. Its plugin configuration names it; the first
;; byte says what it does on request headers:
;;   anything else  adds `x-chain: <name>` and continues;
;;   `r`            answers 403 itself (details `denied`, body: its name);
;;   `t`            traps;
;;   `p`            adds its tag, pauses, and continues the stream on the next tick.
;; On response headers every tagger adds `x-chain: <name>`; `on_log` stores `<name>` = `logged`
;; in shared data, so a test sees which contexts were finished.
(module
  (import "env" "proxy_get_buffer_bytes" (func $get_buffer (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_add_header_map_value" (func $add_header (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_send_local_response"
    (func $local_response (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_set_effective_context" (func $set_context (param i32) (result i32)))
  (import "env" "proxy_continue_stream" (func $continue_stream (param i32) (result i32)))
  (import "env" "proxy_set_tick_period_milliseconds" (func $set_tick (param i32) (result i32)))
  (import "env" "proxy_set_shared_data" (func $set_shared (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 0x200) "x-chain")
  (data (i32.const 0x210) "denied")
  (data (i32.const 0x220) "logged")
  (global $heap (mut i32) (i32.const 0x10000))
  (global $name (mut i32) (i32.const 0))
  (global $name_len (mut i32) (i32.const 0))
  (global $paused (mut i32) (i32.const 0))
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
    (global.set $name (i32.load (i32.const 0x100)))
    (global.set $name_len (i32.load (i32.const 0x104)))
    (i32.const 1))
  (func $tag (param $map i32)
    (drop (call $add_header (local.get $map) (i32.const 0x200) (i32.const 7)
      (global.get $name) (global.get $name_len))))
  (func (export "proxy_on_request_headers") (param $ctx i32) (param i32 i32) (result i32)
    (local $mode i32)
    (local.set $mode (i32.load8_u (global.get $name)))
    (if (i32.eq (local.get $mode) (i32.const 0x74)) (then unreachable))
    (if (i32.eq (local.get $mode) (i32.const 0x72))
      (then
        (drop (call $local_response (i32.const 403) (i32.const 0x210) (i32.const 6)
          (global.get $name) (global.get $name_len) (i32.const 0) (i32.const 0) (i32.const -1)))
        (return (i32.const 1))))
    (call $tag (i32.const 0))
    (if (i32.eq (local.get $mode) (i32.const 0x70))
      (then
        (global.set $paused (local.get $ctx))
        (drop (call $set_tick (i32.const 1000)))
        (return (i32.const 1))))
    (i32.const 0))
  (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32)
    (call $tag (i32.const 2))
    (i32.const 0))
  (func (export "proxy_on_tick") (param i32)
    (if (global.get $paused)
      (then
        (drop (call $set_context (global.get $paused)))
        (drop (call $continue_stream (i32.const 0)))
        (global.set $paused (i32.const 0)))))
  (func (export "proxy_on_log") (param i32)
    (drop (call $set_shared (global.get $name) (global.get $name_len)
      (i32.const 0x220) (i32.const 6) (i32.const 0))))
  (func (export "proxy_on_done") (param i32) (result i32) (i32.const 1))
  (func (export "proxy_on_delete") (param i32)))
