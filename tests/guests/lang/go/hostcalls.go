// The proxy-wasm hostcalls this guest uses, imported by hand: no SDK, so what the host sees is
// what standard Go (GOOS=wasip1, //go:wasmimport) makes of them.

package main

import "unsafe"

//go:wasmimport env proxy_log
func proxyLog(level uint32, ptr unsafe.Pointer, size uint32) uint32

//go:wasmimport env proxy_get_header_map_value
func proxyGetHeaderMapValue(mapType uint32, key unsafe.Pointer, keySize uint32, retPtr unsafe.Pointer, retSize unsafe.Pointer) uint32

//go:wasmimport env proxy_add_header_map_value
func proxyAddHeaderMapValue(mapType uint32, key unsafe.Pointer, keySize uint32, value unsafe.Pointer, valueSize uint32) uint32

//go:wasmimport env proxy_get_buffer_bytes
func proxyGetBufferBytes(bufferType uint32, start uint32, length uint32, retPtr unsafe.Pointer, retSize unsafe.Pointer) uint32

//go:wasmimport env proxy_set_buffer_bytes
func proxySetBufferBytes(bufferType uint32, start uint32, length uint32, value unsafe.Pointer, valueSize uint32) uint32

//go:wasmimport env proxy_http_call
func proxyHTTPCall(upstream unsafe.Pointer, upstreamSize uint32, headers unsafe.Pointer, headersSize uint32, body unsafe.Pointer, bodySize uint32, trailers unsafe.Pointer, trailersSize uint32, timeoutMs uint32, retToken unsafe.Pointer) uint32

//go:wasmimport env proxy_set_tick_period_milliseconds
func proxySetTickPeriod(ms uint32) uint32

//go:wasmimport env proxy_set_effective_context
func proxySetEffectiveContext(ctx uint32) uint32

//go:wasmimport env proxy_continue_stream
func proxyContinueStream(streamType uint32) uint32

// Header maps and buffers, as the spec numbers them.
const (
	requestHeaders      = 0
	responseHeaders     = 2
	callResponseHeaders = 6
	requestBody         = 0
)

// allocations keeps what the host asked for alive (Go's collector does not see the host's
// pointers) until the guest has read it.
var allocations = map[uint32][]byte{}

//go:wasmexport proxy_on_memory_allocate
func onMemoryAllocate(size uint32) uint32 {
	buf := make([]byte, size+1) // never empty, so &buf[0] exists
	ptr := uint32(uintptr(unsafe.Pointer(&buf[0])))
	allocations[ptr] = buf
	return ptr
}

// taken returns the bytes the host handed over at ptr and lets them go.
func taken(ptr, size uint32) []byte {
	buf, ok := allocations[ptr]
	if !ok {
		return nil
	}
	delete(allocations, ptr)
	return buf[:size]
}

func bytesPtr(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Pointer(&b[0])
}

func logInfo(message string) {
	b := []byte(message)
	proxyLog(2, bytesPtr(b), uint32(len(b)))
}

func header(mapType uint32, name string) (string, bool) {
	key := []byte(name)
	var ptr, size uint32
	if proxyGetHeaderMapValue(mapType, bytesPtr(key), uint32(len(key)), unsafe.Pointer(&ptr), unsafe.Pointer(&size)) != 0 {
		return "", false
	}
	return string(taken(ptr, size)), true
}

func addHeader(mapType uint32, name, value string) {
	k, v := []byte(name), []byte(value)
	proxyAddHeaderMapValue(mapType, bytesPtr(k), uint32(len(k)), bytesPtr(v), uint32(len(v)))
}

// pairs serialises a header map as the spec lays it out: count, (name, value) sizes, then each
// name and value NUL-terminated.
func pairs(kv [][2]string) []byte {
	le := func(out []byte, n int) []byte {
		return append(out, byte(n), byte(n>>8), byte(n>>16), byte(n>>24))
	}
	out := le(nil, len(kv))
	for _, p := range kv {
		out = le(le(out, len(p[0])), len(p[1]))
	}
	for _, p := range kv {
		out = append(append(append(append(out, p[0]...), 0), p[1]...), 0)
	}
	return out
}
