// A proxy-wasm guest in AssemblyScript, with no SDK: the hostcalls are declared here, and WASI
// is imported as `wasi_unstable`, as AssemblyScript's tooling does. The behaviour every guest
// under tests/guests/lang/ shares (see its README), so the same assertions hold for each
// language in wasmesh and in Envoy.

@external("env", "proxy_log")
declare function proxy_log(level: u32, message: usize, size: usize): u32;
@external("env", "proxy_get_header_map_value")
declare function proxy_get_header_map_value(map: u32, key: usize, keySize: usize, value: usize, valueSize: usize): u32;
@external("env", "proxy_add_header_map_value")
declare function proxy_add_header_map_value(map: u32, key: usize, keySize: usize, value: usize, valueSize: usize): u32;
@external("env", "proxy_get_buffer_bytes")
declare function proxy_get_buffer_bytes(buffer: u32, start: usize, length: usize, data: usize, size: usize): u32;
@external("env", "proxy_set_buffer_bytes")
declare function proxy_set_buffer_bytes(buffer: u32, start: usize, length: usize, data: usize, size: usize): u32;
@external("env", "proxy_http_call")
declare function proxy_http_call(upstream: usize, upstreamSize: usize, headers: usize, headersSize: usize, body: usize, bodySize: usize, trailers: usize, trailersSize: usize, timeoutMs: u32, token: usize): u32;
@external("env", "proxy_set_tick_period_milliseconds")
declare function proxy_set_tick_period_milliseconds(ms: u32): u32;
@external("env", "proxy_set_effective_context")
declare function proxy_set_effective_context(context: u32): u32;
@external("env", "proxy_continue_stream")
declare function proxy_continue_stream(stream: u32): u32;
@external("wasi_unstable", "fd_write")
declare function fd_write(fd: u32, iovs: usize, count: usize, written: usize): u32;

// Header maps and buffers, as the spec numbers them.
const REQUEST_HEADERS: u32 = 0;
const RESPONSE_HEADERS: u32 = 2;
const CALL_RESPONSE_HEADERS: u32 = 6;
const REQUEST_BODY: u32 = 0;

const LANG = "assemblyscript";
let rootId: u32 = 0;
let ticks: i32 = 0;
// An HTTP call's token to the stream that made it: the answer comes to the root context.
const calls = new Map<u32, u32>();
// Two u32 out-slots the host writes a pointer and a size (or a token) into.
const slots = memory.data(8);

function log(message: string): void {
  const bytes = String.UTF8.encode(message);
  proxy_log(2, changetype<usize>(bytes), bytes.byteLength);
}

// Ends the VM with the reason logged: AssemblyScript's assertions call this instead of
// importing `env.abort`, which Envoy does not offer.
function abort(message: string | null, file: string | null, line: u32, column: u32): void {
  log("assemblyscript guest aborted: " + (message ? message : "") + " at " + (file ? file : "") + ":" + line.toString());
  unreachable();
}

function header(map: u32, name: string): string {
  const key = String.UTF8.encode(name);
  if (proxy_get_header_map_value(map, changetype<usize>(key), key.byteLength, slots, slots + 4) != 0) {
    return "";
  }
  const ptr = <usize>load<u32>(slots);
  const value = String.UTF8.decodeUnsafe(ptr, <usize>load<u32>(slots + 4));
  heap.free(ptr);
  return value;
}

function addHeader(map: u32, name: string, value: string): void {
  const k = String.UTF8.encode(name);
  const v = String.UTF8.encode(value);
  proxy_add_header_map_value(map, changetype<usize>(k), k.byteLength, changetype<usize>(v), v.byteLength);
}

// A header map in the spec's pair layout: count, (name, value) sizes, each NUL-terminated.
function pairs(kv: string[][]): ArrayBuffer {
  const encoded: ArrayBuffer[] = [];
  let size = 4;
  for (let i = 0; i < kv.length; i++) {
    for (let j = 0; j < 2; j++) {
      const b = String.UTF8.encode(kv[i][j]);
      encoded.push(b);
      size += 4 + b.byteLength + 1;
    }
  }
  const out = new ArrayBuffer(size);
  const base = changetype<usize>(out);
  store<u32>(base, kv.length);
  let at = base + 4 + encoded.length * 4;
  for (let i = 0; i < encoded.length; i++) {
    store<u32>(base + 4 + i * 4, encoded[i].byteLength);
    memory.copy(at, changetype<usize>(encoded[i]), encoded[i].byteLength);
    at += encoded[i].byteLength;
    store<u8>(at, 0);
    at += 1;
  }
  return out;
}

export function proxy_abi_version_0_2_1(): void {}

export function proxy_on_memory_allocate(size: usize): usize {
  return heap.alloc(size);
}

export function proxy_on_vm_start(root: u32, size: u32): u32 {
  const line = String.UTF8.encode("assemblyscript guest: vm started\n");
  const iov = memory.data(8);
  store<u32>(iov, <u32>changetype<usize>(line));
  store<u32>(iov + 4, line.byteLength);
  fd_write(1, iov, 1, slots);
  return 1;
}

export function proxy_on_configure(root: u32, size: u32): u32 {
  proxy_set_tick_period_milliseconds(20);
  return 1;
}

export function proxy_on_context_create(context: u32, parent: u32): void {
  if (parent == 0) rootId = context;
}

export function proxy_on_tick(root: u32): void {
  ticks++;
}

export function proxy_on_request_headers(context: u32, headers: u32, endOfStream: u32): u32 {
  const path = header(REQUEST_HEADERS, ":path");
  addHeader(REQUEST_HEADERS, "x-guest-lang", LANG);
  addHeader(REQUEST_HEADERS, "x-guest-path", path);
  addHeader(REQUEST_HEADERS, "x-guest-ticks", ticks.toString());
  if (path != "/call") return 0;
  const upstream = String.UTF8.encode("backend");
  const head = pairs([[":method", "GET"], [":path", "/called"], [":authority", "backend"]]);
  const status = proxy_http_call(changetype<usize>(upstream), upstream.byteLength, changetype<usize>(head), head.byteLength, 0, 0, 0, 0, 5000, slots);
  if (status != 0) {
    addHeader(REQUEST_HEADERS, "x-call-dispatch", status.toString());
    return 0;
  }
  calls.set(load<u32>(slots), context);
  return 1;
}

export function proxy_on_request_body(context: u32, size: u32, endOfStream: u32): u32 {
  if (size == 0 || proxy_get_buffer_bytes(REQUEST_BODY, 0, size, slots, slots + 4) != 0) return 0;
  const data = <usize>load<u32>(slots);
  const got = <usize>load<u32>(slots + 4);
  for (let i: usize = 0; i < got; i++) {
    const c = load<u8>(data + i);
    if (c >= 0x61 && c <= 0x7a) store<u8>(data + i, c - 0x20);
  }
  proxy_set_buffer_bytes(REQUEST_BODY, 0, size, data, got);
  heap.free(data);
  return 0;
}

export function proxy_on_response_headers(context: u32, headers: u32, endOfStream: u32): u32 {
  addHeader(RESPONSE_HEADERS, "x-guest-lang", LANG);
  return 0;
}

export function proxy_on_http_call_response(context: u32, token: u32, headers: u32, body: u32, trailers: u32): void {
  if (!calls.has(token)) return;
  const stream = calls.get(token);
  calls.delete(token);
  const status = header(CALL_RESPONSE_HEADERS, ":status");
  const backend = header(CALL_RESPONSE_HEADERS, "x-backend");
  proxy_set_effective_context(stream);
  addHeader(REQUEST_HEADERS, "x-call-status", status);
  addHeader(REQUEST_HEADERS, "x-call-backend", backend);
  addHeader(REQUEST_HEADERS, "x-call-root", context == rootId ? "yes" : "no");
  proxy_continue_stream(0);
}

export function proxy_on_done(context: u32): u32 {
  return 1;
}

export function proxy_on_delete(context: u32): void {}
