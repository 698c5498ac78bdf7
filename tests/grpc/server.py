"""A real gRPC server (Python grpcio) for the gRPC scenarios of the end-to-end tests.

Serves wasmesh.test.Echo (echo.proto) and envoy.service.ratelimit.v3.RateLimitService
(ratelimit.proto) over h2c on 127.0.0.1 — or over TLS with `--tls <certificate> <key>` (PEM
files) — on a port the system picks, which it prints as `listening on <port>`. It compiles the protos itself (grpcio-tools) into a temporary directory.
It stops when the process that started it is gone (the test ended), after ten minutes at
most, or on SIGTERM.

Rate limit: the request is OVER_LIMIT when a descriptor has the entry user=blocked, else OK.
"""

import os
import sys
import tempfile
import time

import grpc
from grpc_tools import protoc

HERE = os.path.dirname(os.path.abspath(__file__))


def compile_protos():
    out = tempfile.mkdtemp(prefix="wasmesh-grpc-")
    for proto in ("echo.proto", "ratelimit.proto"):
        code = protoc.main(
            ["protoc", f"-I{HERE}", f"--python_out={out}", f"--grpc_python_out={out}", proto]
        )
        if code != 0:
            sys.exit(f"protoc failed on {proto}")
    sys.path.insert(0, out)


compile_protos()
import echo_pb2  # noqa: E402
import echo_pb2_grpc  # noqa: E402
import ratelimit_pb2  # noqa: E402
import ratelimit_pb2_grpc  # noqa: E402


def caller_metadata(context):
    return sorted(f"{k}={v}" for k, v in context.invocation_metadata() if k.startswith("x-"))


STATUS_BY_CODE = {status.value[0]: status for status in grpc.StatusCode}

# The longest the server runs, whatever happens to the test that started it.
MAX_SECONDS = 600


def fail(context, request):
    context.set_trailing_metadata((("x-echo-trailing", "failed"),))
    context.abort(STATUS_BY_CODE[request.fail_code], request.fail_message)


class Echo(echo_pb2_grpc.EchoServicer):
    def Unary(self, request, context):
        context.send_initial_metadata((("x-echo-initial", "unary"),))
        if request.delay_ms:
            time.sleep(request.delay_ms / 1000)
        if request.fail_code:
            fail(context, request)
        context.set_trailing_metadata((("x-echo-trailing", "unary"),))
        return echo_pb2.EchoReply(
            text=request.text,
            method="/wasmesh.test.Echo/Unary",
            metadata=caller_metadata(context),
            sequence=1,
        )

    def Chat(self, requests, context):
        context.send_initial_metadata((("x-echo-initial", "chat"),))
        sequence = 0
        for request in requests:
            if request.fail_code:
                fail(context, request)
            for _ in range(max(request.replies, 1)):
                sequence += 1
                yield echo_pb2.EchoReply(
                    text=request.text,
                    method="/wasmesh.test.Echo/Chat",
                    metadata=caller_metadata(context),
                    sequence=sequence,
                )
        context.set_trailing_metadata((("x-echo-trailing", f"chat {sequence}"),))


class RateLimit(ratelimit_pb2_grpc.RateLimitServiceServicer):
    def ShouldRateLimit(self, request, context):
        blocked = any(
            entry.key == "user" and entry.value == "blocked"
            for descriptor in request.descriptors
            for entry in descriptor.entries
        )
        code = ratelimit_pb2.RateLimitResponse.OVER_LIMIT if blocked else ratelimit_pb2.RateLimitResponse.OK
        return ratelimit_pb2.RateLimitResponse(overall_code=code)


def main():
    from concurrent import futures

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
    echo_pb2_grpc.add_EchoServicer_to_server(Echo(), server)
    ratelimit_pb2_grpc.add_RateLimitServiceServicer_to_server(RateLimit(), server)
    if sys.argv[1:2] == ["--tls"]:
        with open(sys.argv[2], "rb") as cert, open(sys.argv[3], "rb") as key:
            credentials = grpc.ssl_server_credentials([(key.read(), cert.read())])
        port = server.add_secure_port("127.0.0.1:0", credentials)
    else:
        port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(f"listening on {port}", flush=True)
    parent = os.getppid()
    started = time.monotonic()
    while os.getppid() == parent and time.monotonic() - started < MAX_SECONDS:
        time.sleep(0.5)
    server.stop(grace=0)


if __name__ == "__main__":
    main()
