"""The front door: one TCP port for both gRPC and REST, like the official emulator.

Each connection's first bytes are peeked (not read): the HTTP/2 connection preface
(``PRI * HTTP/2.0``) means gRPC, and the connection is piped byte for byte to the gRPC server
on its own loopback port; anything else is HTTP/1.1 and is served by the :class:`RestApp`
(kept-alive connections, one thread each). The pipe costs two ``recv``/``send`` per chunk and
no parsing; gRPC Python offers no way to hand it an accepted socket.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler

log = logging.getLogger("local.pubsub.frontend")

_PREFACE = b"PRI "
_CHUNK = 256 * 1024
# An HTTP/1.1 connection idle this long is closed; its thread ends.
IDLE_TIMEOUT = 300.0


class _RestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "local-pubsub"
    sys_version = ""
    timeout = IDLE_TIMEOUT

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, headers, payload = self.server.app.handle(self.command, self.path, body)
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = do_HEAD = _serve

    def log_message(self, format: str, *args) -> None:
        log.debug("%s %s", self.address_string(), format % args)


class Frontend:
    def __init__(self, host: str, port: int, grpc_port: int, app) -> None:
        self.host = host
        self.port = port
        self.app = app  # read by _RestHandler through self.server
        self._grpc_port = grpc_port
        self._sock: socket.socket | None = None
        self._stop = threading.Event()
        # _lock protects _conns: the open client sockets, closed on stop.
        self._lock = threading.Lock()
        self._conns: set[socket.socket] = set()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.create_server((self.host, self.port), family=family, backlog=1024)
        self.port = sock.getsockname()[1]
        self._sock = sock
        self._thread = threading.Thread(target=self._accept, name="pubsub-accept", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)
            self._sock.close()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=2)

    def _accept(self) -> None:
        assert self._sock is not None
        while not self._stop.is_set():
            try:
                conn, addr = self._sock.accept()
            except OSError:
                if self._stop.is_set():
                    return
                continue
            threading.Thread(
                target=self._serve, args=(conn, addr), name="pubsub-conn", daemon=True
            ).start()

    def _serve(self, conn: socket.socket, addr) -> None:
        with self._lock:
            self._conns.add(conn)
        try:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.settimeout(IDLE_TIMEOUT)
            head = conn.recv(len(_PREFACE), socket.MSG_PEEK | socket.MSG_WAITALL)
            if not head:
                return
            if head == _PREFACE:
                self._pipe_to_grpc(conn)
            else:
                _RestHandler(conn, addr, self)
        except OSError as exc:
            log.debug("connection from %s ended: %r", addr, exc)
        finally:
            with self._lock:
                self._conns.discard(conn)
            conn.close()

    def _pipe_to_grpc(self, client: socket.socket) -> None:
        upstream = socket.create_connection(("127.0.0.1", self._grpc_port))
        upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        client.settimeout(None)
        with self._lock:
            self._conns.add(upstream)
        back = threading.Thread(
            target=_pipe, args=(upstream, client), name="pubsub-pipe", daemon=True
        )
        back.start()
        try:
            _pipe(client, upstream)
            back.join()
        finally:
            with self._lock:
                self._conns.discard(upstream)
            upstream.close()


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    """Copies src to dst until src ends, then half-closes dst."""
    try:
        while True:
            data = src.recv(_CHUNK)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for sock, how in ((dst, socket.SHUT_WR), (src, socket.SHUT_RD)):
            with contextlib.suppress(OSError):
                sock.shutdown(how)
