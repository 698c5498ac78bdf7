/* A proxy-wasm guest in C (clang, Debian's wasi-libc, built as a WASI reactor), with no SDK: the
 * behaviour every guest under tests/guests/lang/ shares (see its README), so the same assertions
 * hold for each language in wasmesh and in Envoy. */

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMPORT(name) __attribute__((import_module("env"), import_name(#name)))
#define EXPORT(name) __attribute__((export_name(#name)))

IMPORT(proxy_log) uint32_t proxy_log(uint32_t level, const char *message, size_t size);
IMPORT(proxy_get_header_map_value)
uint32_t proxy_get_header_map_value(uint32_t map, const char *key, size_t key_size, char **value,
                                    size_t *value_size);
IMPORT(proxy_add_header_map_value)
uint32_t proxy_add_header_map_value(uint32_t map, const char *key, size_t key_size,
                                    const char *value, size_t value_size);
IMPORT(proxy_get_buffer_bytes)
uint32_t proxy_get_buffer_bytes(uint32_t buffer, size_t start, size_t length, char **data,
                                size_t *size);
IMPORT(proxy_set_buffer_bytes)
uint32_t proxy_set_buffer_bytes(uint32_t buffer, size_t start, size_t length, const char *data,
                                size_t size);
IMPORT(proxy_http_call)
uint32_t proxy_http_call(const char *upstream, size_t upstream_size, const char *headers,
                         size_t headers_size, const char *body, size_t body_size,
                         const char *trailers, size_t trailers_size, uint32_t timeout_ms,
                         uint32_t *token);
IMPORT(proxy_set_tick_period_milliseconds) uint32_t proxy_set_tick_period_milliseconds(uint32_t ms);
IMPORT(proxy_set_effective_context) uint32_t proxy_set_effective_context(uint32_t context);
IMPORT(proxy_continue_stream) uint32_t proxy_continue_stream(uint32_t stream);

/* Header maps and buffers, as the spec numbers them. */
enum { REQUEST_HEADERS = 0, RESPONSE_HEADERS = 2, CALL_RESPONSE_HEADERS = 6, REQUEST_BODY = 0 };

static const char LANG[] = "c";
static uint32_t root_id;
static int ticks;

/* The calls in flight: token and the stream that made it (the answer comes to the root). */
#define MAX_CALLS 64
static struct {
    uint32_t token, stream;
} calls[MAX_CALLS];

EXPORT(proxy_abi_version_0_2_1) void abi_version(void) {}

EXPORT(proxy_on_memory_allocate) void *on_memory_allocate(size_t size) { return malloc(size); }

/* The value of `name` in `map`, NUL-terminated, in `out` (empty when absent). */
static void header(uint32_t map, const char *name, char *out, size_t capacity) {
    char *value = NULL;
    size_t size = 0;
    out[0] = 0;
    if (proxy_get_header_map_value(map, name, strlen(name), &value, &size) == 0 && value) {
        snprintf(out, capacity, "%.*s", (int)size, value);
        free(value);
    }
}

static void add_header(uint32_t map, const char *name, const char *value) {
    proxy_add_header_map_value(map, name, strlen(name), value, strlen(value));
}

EXPORT(proxy_on_vm_start) uint32_t on_vm_start(uint32_t root, uint32_t size) {
    printf("c guest: vm started\n"); /* WASI fd_write: the host logs it */
    fflush(stdout);
    return 1;
}

EXPORT(proxy_on_configure) uint32_t on_configure(uint32_t root, uint32_t size) {
    proxy_set_tick_period_milliseconds(20);
    return 1;
}

EXPORT(proxy_on_context_create) void on_context_create(uint32_t context, uint32_t parent) {
    if (parent == 0) root_id = context;
}

EXPORT(proxy_on_tick) void on_tick(uint32_t root) { ticks++; }

EXPORT(proxy_on_request_headers)
uint32_t on_request_headers(uint32_t context, uint32_t headers, uint32_t end_of_stream) {
    char path[256], number[16];
    header(REQUEST_HEADERS, ":path", path, sizeof path);
    snprintf(number, sizeof number, "%d", ticks);
    add_header(REQUEST_HEADERS, "x-guest-lang", LANG);
    add_header(REQUEST_HEADERS, "x-guest-path", path);
    add_header(REQUEST_HEADERS, "x-guest-ticks", number);
    if (strcmp(path, "/call") != 0) return 0;
    /* {:method GET, :path /called, :authority backend} in the spec's pair layout. */
    static const char head[] = "\3\0\0\0"
                               "\7\0\0\0\3\0\0\0"
                               "\5\0\0\0\7\0\0\0"
                               "\12\0\0\0\7\0\0\0"
                               ":method\0GET\0:path\0/called\0:authority\0backend\0";
    uint32_t token = 0;
    uint32_t status = proxy_http_call("backend", 7, head, sizeof head - 1, NULL, 0, NULL, 0,
                                      5000, &token);
    if (status != 0) {
        snprintf(number, sizeof number, "%u", status);
        add_header(REQUEST_HEADERS, "x-call-dispatch", number);
        return 0;
    }
    for (int i = 0; i < MAX_CALLS; i++) {
        if (calls[i].stream == 0) {
            calls[i].token = token;
            calls[i].stream = context;
            break;
        }
    }
    return 1;
}

EXPORT(proxy_on_request_body)
uint32_t on_request_body(uint32_t context, uint32_t size, uint32_t end_of_stream) {
    char *data = NULL;
    size_t got = 0;
    if (size == 0 || proxy_get_buffer_bytes(REQUEST_BODY, 0, size, &data, &got) != 0 || !data)
        return 0;
    for (size_t i = 0; i < got; i++) data[i] = (char)toupper((unsigned char)data[i]);
    proxy_set_buffer_bytes(REQUEST_BODY, 0, size, data, got);
    free(data);
    return 0;
}

EXPORT(proxy_on_response_headers)
uint32_t on_response_headers(uint32_t context, uint32_t headers, uint32_t end_of_stream) {
    add_header(RESPONSE_HEADERS, "x-guest-lang", LANG);
    return 0;
}

EXPORT(proxy_on_http_call_response)
void on_http_call_response(uint32_t context, uint32_t token, uint32_t headers, uint32_t body,
                           uint32_t trailers) {
    uint32_t stream = 0;
    for (int i = 0; i < MAX_CALLS; i++) {
        if (calls[i].stream != 0 && calls[i].token == token) {
            stream = calls[i].stream;
            calls[i].stream = 0;
            break;
        }
    }
    if (stream == 0) return;
    char status[16], backend[64];
    header(CALL_RESPONSE_HEADERS, ":status", status, sizeof status);
    header(CALL_RESPONSE_HEADERS, "x-backend", backend, sizeof backend);
    proxy_set_effective_context(stream);
    add_header(REQUEST_HEADERS, "x-call-status", status);
    add_header(REQUEST_HEADERS, "x-call-backend", backend);
    add_header(REQUEST_HEADERS, "x-call-root", context == root_id ? "yes" : "no");
    proxy_continue_stream(0);
}

EXPORT(proxy_on_done) uint32_t on_done(uint32_t context) { return 1; }

EXPORT(proxy_on_delete) void on_delete(uint32_t context) {}
