// A proxy-wasm guest in standard Go (GOOS=wasip1, -buildmode=c-shared, //go:wasmexport), with
// no SDK: the behaviour every guest under tests/guests/lang/ shares (see its README), so the
// same assertions hold for each language in wasmesh and in Envoy.

package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"unsafe"
)

const lang = "go"

var (
	rootID uint32
	ticks  int
	// calls maps an HTTP call's token to the stream that made it: the answer comes to the
	// root context, as in Envoy.
	calls = map[uint32]uint32{}
)

func main() {}

//go:wasmexport proxy_abi_version_0_2_1
func abiVersion() {}

//go:wasmexport proxy_on_vm_start
func onVMStart(rootContext, size uint32) uint32 {
	logInfo("go guest: vm started")
	// Through the os package, so the module imports what Go's runtime and os need from WASI
	// (fd_fdstat_get, fd_fdstat_set_flags, fd_prestat_*, ...), as real Go filters do.
	fmt.Fprintln(os.Stdout, "go guest: hello from fmt")
	return 1
}

//go:wasmexport proxy_on_configure
func onConfigure(rootContext, size uint32) uint32 {
	proxySetTickPeriod(20)
	return 1
}

//go:wasmexport proxy_on_context_create
func onContextCreate(ctx, parent uint32) {
	if parent == 0 {
		rootID = ctx
	}
}

//go:wasmexport proxy_on_tick
func onTick(rootContext uint32) {
	ticks++
}

//go:wasmexport proxy_on_request_headers
func onRequestHeaders(ctx, headers, endOfStream uint32) uint32 {
	path, _ := header(requestHeaders, ":path")
	addHeader(requestHeaders, "x-guest-lang", lang)
	addHeader(requestHeaders, "x-guest-path", path)
	addHeader(requestHeaders, "x-guest-ticks", strconv.Itoa(ticks))
	if path != "/call" {
		return 0
	}
	upstream := []byte("backend")
	head := pairs([][2]string{{":method", "GET"}, {":path", "/called"}, {":authority", "backend"}})
	var token uint32
	status := proxyHTTPCall(bytesPtr(upstream), uint32(len(upstream)), bytesPtr(head), uint32(len(head)), nil, 0, nil, 0, 5000, unsafe.Pointer(&token))
	if status != 0 {
		addHeader(requestHeaders, "x-call-dispatch", strconv.Itoa(int(status)))
		return 0
	}
	calls[token] = ctx
	return 1
}

//go:wasmexport proxy_on_request_body
func onRequestBody(ctx, size, endOfStream uint32) uint32 {
	if size == 0 {
		return 0
	}
	var ptr, got uint32
	if proxyGetBufferBytes(requestBody, 0, size, unsafe.Pointer(&ptr), unsafe.Pointer(&got)) != 0 {
		return 0
	}
	upper := []byte(strings.ToUpper(string(taken(ptr, got))))
	proxySetBufferBytes(requestBody, 0, size, bytesPtr(upper), uint32(len(upper)))
	return 0
}

//go:wasmexport proxy_on_response_headers
func onResponseHeaders(ctx, headers, endOfStream uint32) uint32 {
	addHeader(responseHeaders, "x-guest-lang", lang)
	return 0
}

//go:wasmexport proxy_on_http_call_response
func onHTTPCallResponse(ctx, token, headers, bodySize, trailers uint32) {
	stream, ok := calls[token]
	if !ok {
		return
	}
	delete(calls, token)
	status, _ := header(callResponseHeaders, ":status")
	backend, _ := header(callResponseHeaders, "x-backend")
	root := "no"
	if ctx == rootID {
		root = "yes"
	}
	proxySetEffectiveContext(stream)
	addHeader(requestHeaders, "x-call-status", status)
	addHeader(requestHeaders, "x-call-backend", backend)
	addHeader(requestHeaders, "x-call-root", root)
	proxyContinueStream(0)
}

//go:wasmexport proxy_on_done
func onDone(ctx uint32) uint32 { return 1 }

//go:wasmexport proxy_on_delete
func onDelete(ctx uint32) {}
