"""The push HTTP/1.1 connection against a scripted raw-socket server."""

from __future__ import annotations

import socket
import threading

import pytest

from local.pubsub.http1 import HttpConnection, StaleConnection


class ScriptedServer:
    """Accepts connections; answers the n-th request with ``responses[n]`` (raw bytes), or
    closes the connection when the script says None."""

    def __init__(self, responses: list[bytes | None]) -> None:
        self.responses = list(responses)
        self.requests: list[bytes] = []
        self.connections = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        buf = b""
        with conn:
            while self.responses:
                while b"\r\n\r\n" not in buf:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                head, buf = buf.split(b"\r\n\r\n", 1)
                length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
                while len(buf) < length:
                    buf += conn.recv(65536)
                self.requests.append(head + b"\r\n\r\n" + buf[:length])
                buf = buf[length:]
                response = self.responses.pop(0)
                if response is None:
                    return
                conn.sendall(response)

    def close(self) -> None:
        self.sock.close()


@pytest.mark.parametrize(
    ("response", "status", "kept"),
    [
        (b"HTTP/1.1 204 No Content\r\n\r\n", 204, True),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 200, True),
        (
            b"HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n",
            500,
            True,
        ),
        (b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", 200, False),
        (b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", 200, False),
        (
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
            201,
            True,
        ),
        (b"HTTP/1.1 102 Processing\r\n\r\n", 102, False),
    ],
)
def test_statuses_and_keep_alive(response, status, kept):
    server = ScriptedServer([response, b"HTTP/1.1 204 No Content\r\n\r\n"])
    conn = HttpConnection("http", "127.0.0.1", server.port)
    try:
        assert conn.post("/p?q=1", {"X-A": "é"}, b"\x00body", timeout=5) == status
        assert (conn.sock is not None) is kept
        assert conn.post("/p", {}, b"", timeout=5) == 204
        assert server.connections == (1 if kept else 2)
        first = server.requests[0]
        assert first.startswith(b"POST /p?q=1 HTTP/1.1\r\nHost: 127.0.0.1:")
        assert "X-A: é".encode() in first
        assert first.endswith(b"\r\n\r\n\x00body")
    finally:
        conn.close()
        server.close()


def test_a_stale_kept_alive_connection_is_detected():
    server = ScriptedServer(
        [b"HTTP/1.1 204 No Content\r\n\r\n", None, b"HTTP/1.1 204 No Content\r\n\r\n"]
    )
    conn = HttpConnection("http", "127.0.0.1", server.port)
    try:
        assert conn.post("/", {}, b"1", timeout=5) == 204
        with pytest.raises(StaleConnection):
            conn.post("/", {}, b"2", timeout=5)  # the server closed without answering
        assert conn.post("/", {}, b"3", timeout=5) == 204  # a new connection
    finally:
        conn.close()
        server.close()


def test_timeout():
    server = socket.create_server(("127.0.0.1", 0))  # accepts (backlog), never answers
    conn = HttpConnection("http", "127.0.0.1", server.getsockname()[1])
    try:
        with pytest.raises(TimeoutError):
            conn.post("/", {}, b"x", timeout=0.3)
        assert conn.sock is None
    finally:
        server.close()
