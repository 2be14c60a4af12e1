"""A small HTTP/1.1 client connection for push: one request at a time, kept alive.

``http.client`` parses response headers with the ``email`` package, which costs more CPU per
push than everything else together; push needs only the status, the framing headers and
keep-alive. This connection sends the request in one ``sendall`` and reads the response with
its own buffer. It understands Content-Length, chunked bodies, bodies ending at close, 1xx
and 204/304 without bodies, ``Connection: close`` and HTTP/1.0. https goes through the default
``ssl`` context. Header values are sent as UTF-8.
"""

from __future__ import annotations

import socket
import ssl
import time


class StaleConnection(ConnectionError):
    """A kept-alive connection was closed by the server before it answered anything."""


class HttpConnection:
    def __init__(self, scheme: str, host: str, port: int | None) -> None:
        self.scheme = scheme
        self.host = host
        self.port = port or (443 if scheme == "https" else 80)
        self.sock: socket.socket | None = None
        self._buf = b""
        self._deadline = 0.0

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        self._buf = b""

    def _connect(self, timeout: float) -> None:
        sock = socket.create_connection((self.host, self.port), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.scheme == "https":
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self.host)
        self.sock = sock

    def post(self, target: str, headers: dict[str, str], body: bytes, timeout: float) -> int:
        """POSTs and returns the status; raises OSError (incl. timeouts) or StaleConnection."""
        reused = self.sock is not None
        if self.sock is None:
            self._connect(timeout)
        assert self.sock is not None
        self._deadline = time.monotonic() + timeout
        lines = [
            f"POST {target} HTTP/1.1",
            f"Host: {self.host_header}",
            f"Content-Length: {len(body)}",
        ]
        lines.extend(f"{key}: {value}" for key, value in headers.items())
        request = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + body
        try:
            self.sock.settimeout(timeout)
            self.sock.sendall(request)
            status, keep_alive = self._read_response(reused)
        except BaseException:
            self.close()
            raise
        if not keep_alive:
            self.close()
        return status

    def _recv(self) -> bytes:
        assert self.sock is not None
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("push request timed out")
        self.sock.settimeout(remaining)
        return self.sock.recv(65536)

    def _read_until(self, marker: bytes, reused: bool = False) -> bytes:
        while marker not in self._buf:
            data = self._recv()
            if not data:
                if reused and not self._buf:
                    raise StaleConnection("connection closed before the response")
                raise ConnectionError("connection closed in the middle of a response")
            self._buf += data
        head, self._buf = self._buf.split(marker, 1)
        return head

    def _read_exactly(self, size: int) -> None:
        while len(self._buf) < size:
            data = self._recv()
            if not data:
                raise ConnectionError("connection closed in the middle of a body")
            self._buf += data
        self._buf = self._buf[size:]

    def _read_response(self, reused: bool) -> tuple[int, bool]:
        while True:
            head = self._read_until(b"\r\n\r\n", reused).decode("latin-1")
            status_line, _, header_text = head.partition("\r\n")
            parts = status_line.split(" ", 2)
            if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
                raise ConnectionError(f"not an HTTP response: {status_line[:80]!r}")
            version, status = parts[0], int(parts[1])
            headers: dict[str, str] = {}
            for line in header_text.split("\r\n"):
                key, sep, value = line.partition(":")
                if sep:
                    headers[key.strip().lower()] = value.strip().lower()
            if status == 100:
                continue  # an interim "Continue": the real answer follows
            break
        connection = headers.get("connection", "")
        keep_alive = (
            "close" not in connection if version != "HTTP/1.0" else "keep-alive" in connection
        )
        if 100 <= status < 200:
            # 102 Processing counts as success; a final response may still come: do not reuse.
            return status, False
        if status in (204, 304):
            return status, keep_alive
        if "chunked" in headers.get("transfer-encoding", ""):
            while True:
                size = int(self._read_until(b"\r\n").split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self._read_until(b"\r\n"):  # trailers, up to the empty line
                        pass
                    break
                self._read_exactly(size + 2)
            return status, keep_alive
        if "content-length" in headers:
            self._read_exactly(int(headers["content-length"]))
            return status, keep_alive
        while self._recv():  # the body ends when the server closes
            pass
        return status, False
