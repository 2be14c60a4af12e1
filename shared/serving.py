"""How a service is served: a WSGI app behind an asynchronous HTTP server that reads each
request whole before a thread runs it, so slow clients cannot starve the service.

A thread-per-request WSGI server (gunicorn's `gthread`, which functions-framework runs) hands a
connection to a worker thread as soon as it is readable; a client that sends a byte a second,
or announces a `Content-Length` it never sends, then holds that thread for as long as it
likes: eight such clients stopped a service with eight threads. Here the server (granian,
which reads headers in Rust with a timeout) and this ASGI bridge read the request
asynchronously, with a deadline for the body and the service's size limit; only a complete
request reaches the WSGI app, in a thread of a bounded pool. Measured with 64 slow sockets:
see docs/architecture.md, "Serving".

What never reaches the app is still answered in Google's error JSON: a body over the limit
(413, also for chunked bodies), a body that does not arrive in time (408), a body whose
framing is broken (400). Only what granian itself refuses before a request exists (431 for
oversized headers, 400 for an unparseable request line or `Content-Length`) comes back with
its empty body: no app code runs for those.

    python -m shared.serving services.vision.main:app      # what Cloud Run and `mlapi up` run

The environment (Cloud Run's contract plus ours): `PORT` (8080), `HOST` (0.0.0.0), `WORKERS`
(1: processes), `THREADS` (8 a process: requests run at once), `MAX_REQUEST_BYTES` (10 MiB),
`BODY_TIMEOUT_S` (60: longest a request body may take to arrive), `HEADER_TIMEOUT_S` (10).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib
import io
import json
import os
import sys
from collections.abc import Callable, Iterable
from typing import Any

from shared.errors import ApiError, Code

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
# A body over the limit is read and dropped up to this many times the limit before the 413.
DRAIN_FACTOR = 4


class BufferedWSGI:
    """An ASGI app that runs `wsgi` on whole requests only."""

    def __init__(
        self,
        wsgi: WSGIApp,
        *,
        threads: int = 8,
        max_body_bytes: int = DEFAULT_MAX_BYTES,
        body_timeout_s: float = 60.0,
    ) -> None:
        self.wsgi = wsgi
        self.max_body_bytes = max_body_bytes
        self.body_timeout_s = body_timeout_s
        self._pool = concurrent.futures.ThreadPoolExecutor(threads, thread_name_prefix="request")

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        try:
            async with asyncio.timeout(self.body_timeout_s):  # no task per request, as wait_for
                body = await self._body(scope, receive)
        except TimeoutError:
            await _error(send, ApiError(Code.INVALID_ARGUMENT, _TIMEOUT, http_status=408))
            return
        except ApiError as error:
            await _error(send, error)
            return
        environ = _environ(scope, body)
        loop = asyncio.get_running_loop()
        status, headers, chunks = await loop.run_in_executor(self._pool, _run, self.wsgi, environ)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": chunks})

    async def _body(self, scope: dict, receive: Callable) -> bytes:
        """The whole body; over the limit, 413 once the rest has been read and dropped (a
        client that is still sending would otherwise see a broken pipe, not the answer), or
        at once past `DRAIN_FACTOR` times the limit."""
        announced = _content_length(scope)
        if announced is not None and announced > self.max_body_bytes * DRAIN_FACTOR:
            raise _too_large(self.max_body_bytes)
        parts: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                # The server ends the body this way both for a client that went away and for
                # a body it could not read (a malformed chunk): only the latter reads an answer.
                raise ApiError(Code.INVALID_ARGUMENT, _UNREADABLE)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes * DRAIN_FACTOR:
                raise _too_large(self.max_body_bytes)
            if size <= self.max_body_bytes:
                parts.append(chunk)
            if not message.get("more_body", False):
                if size > self.max_body_bytes:
                    raise _too_large(self.max_body_bytes)
                return b"".join(parts)


_TIMEOUT = "The request body did not arrive in time."
_UNREADABLE = "The request body could not be read: malformed framing (chunk sizes, lengths)."


def _too_large(limit: int) -> ApiError:
    return ApiError(
        Code.INVALID_ARGUMENT,
        f"Request payload size exceeds the limit: {limit} bytes.",
        http_status=413,
    )


def _content_length(scope: dict) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                raise ApiError(Code.INVALID_ARGUMENT, "Bad Content-Length header.") from None
    return None


def _environ(scope: dict, body: bytes) -> dict:
    from a2wsgi.wsgi import build_environ

    environ = build_environ(scope, io.BytesIO(body))  # type: ignore[arg-type]
    environ["CONTENT_LENGTH"] = str(len(body))
    environ.pop("HTTP_TRANSFER_ENCODING", None)  # the body is whole now
    environ["wsgi.errors"] = sys.stderr
    return environ


def _run(wsgi: WSGIApp, environ: dict) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Call the WSGI app; its status, headers and whole body."""
    answer: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], _exc_info: Any = None):
        answer["status"] = int(status.split(" ", 1)[0])
        answer["headers"] = [(k.lower().encode("latin1"), v.encode("latin1")) for k, v in headers]
        return lambda _data: None

    result = wsgi(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return answer["status"], answer["headers"], body


async def _error(send: Callable, error: ApiError) -> None:
    body = json.dumps(error.to_json()).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": error.http_status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Callable, send: Callable) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def load(target: str) -> WSGIApp:
    """`package.module:attribute` -> the WSGI app it names."""
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute or "app")


def asgi_from_env() -> BufferedWSGI:
    """The ASGI app for `MLAPI_WSGI_TARGET` (granian's factory, in each worker). A service's
    app (`shared.service.function_targets`) is built here, before the worker takes a request:
    what it starts at build (batch prediction's scoring processes) then starts with the
    service, not with its first request, which on Cloud Run (a startup probe that only
    connects) may be a job's."""
    wsgi = load(os.environ["MLAPI_WSGI_TARGET"])
    build = getattr(wsgi, "build", None)
    if build is not None:
        build()
    return BufferedWSGI(
        wsgi,
        threads=int(os.environ.get("THREADS", "8")),
        max_body_bytes=int(os.environ.get("MAX_REQUEST_BYTES", DEFAULT_MAX_BYTES)),
        body_timeout_s=float(os.environ.get("BODY_TIMEOUT_S", "60")),
    )


def main(argv: list[str] | None = None) -> None:
    from granian import Granian
    from granian.constants import Interfaces
    from granian.http import HTTP1Settings

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        raise SystemExit("usage: python -m shared.serving package.module:app")
    os.environ["MLAPI_WSGI_TARGET"] = args[0]
    header_ms = int(float(os.environ.get("HEADER_TIMEOUT_S", "10")) * 1000)
    Granian(
        "shared.serving:asgi_from_env",
        factory=True,
        interface=Interfaces.ASGI,
        address=os.environ.get("HOST", "0.0.0.0"),  # noqa: S104 - Cloud Run's contract
        port=int(os.environ.get("PORT", "8080")),
        workers=int(os.environ.get("WORKERS", "1")),
        http1_settings=HTTP1Settings(header_read_timeout=header_ms),
        log_level="warning",  # type: ignore[arg-type]
    ).serve()


if __name__ == "__main__":
    main()
