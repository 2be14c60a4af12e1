"""How every service is served (`shared.serving`), tried from outside on a real process: slow
clients cannot starve it, and what never reaches the app is still answered in Google's error
JSON with the right status (regressions found by a slow-client probe and bench/fuzz.py)."""

from __future__ import annotations

import contextlib
import json
import socket

import pytest
import requests

from local.harness import ServiceProcess

LIMIT = 4096
TRANSLATE = "/v3/projects/test-project/locations/global:translateText"


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    process = ServiceProcess(
        "translation",
        "translation",
        env={"MAX_REQUEST_BYTES": str(LIMIT), "BODY_TIMEOUT_S": "2", "THREADS": "4"},
        log_path=tmp_path_factory.mktemp("serving") / "service.log",
    )
    yield process
    process.stop()


def _raw(service, data: bytes, timeout: float = 10.0) -> tuple[int, dict]:
    """Send `data` as is; the status and the JSON body of the answer."""
    with socket.create_connection(("127.0.0.1", service.port), timeout=timeout) as sock:
        sock.sendall(data)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
            head, _, body = answer.partition(b"\r\n\r\n")
            length = _header(head, b"content-length")
            if length is not None and len(body) >= int(length):
                break
    head, _, body = answer.partition(b"\r\n\r\n")
    assert _header(head, b"content-type") == b"application/json", head
    return int(head.split(b" ", 2)[1]), json.loads(body)


def _header(head: bytes, name: bytes) -> bytes | None:
    for line in head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == name:
            return value.strip()
    return None


def test_slow_clients_do_not_starve_a_good_request(service):
    # More slow clients than the service has threads: half a header, or a body announced and
    # never sent. A thread-per-connection server held a thread for each until they gave up.
    with contextlib.ExitStack() as stack:
        for index in range(64):
            sock = stack.enter_context(socket.create_connection(("127.0.0.1", service.port)))
            if index % 2:
                sock.sendall(b"POST " + TRANSLATE.encode() + b" HTTP/1.1\r\nHost: x\r\n")
            else:
                sock.sendall(
                    b"POST " + TRANSLATE.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                    b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"
                )
        # The good requests go through while every slow socket is still open.
        assert requests.get(f"{service.url}/health", timeout=10).status_code == 200
        refused = requests.post(f"{service.url}{TRANSLATE}", json={"contents": []}, timeout=10)
        assert refused.status_code == 400
    assert service.alive()


def test_a_body_announced_and_never_sent_is_408(service):
    request = (
        b"POST " + TRANSLATE.encode() + b" HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
    )
    status, body = _raw(service, request)
    assert status == 408
    assert body["error"]["message"] == "The request body did not arrive in time."


def test_a_chunked_body_over_the_limit_is_413_not_a_cut_body(service):
    chunk = b"x" * 1024
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(6)) + b"0\r\n\r\n"
    request = (
        b"POST " + TRANSLATE.encode() + b" HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + body
    )
    status, answer = _raw(service, request)
    assert status == 413
    assert answer["error"]["status"] == "INVALID_ARGUMENT"
    assert str(LIMIT) in answer["error"]["message"]


def test_a_malformed_chunk_size_is_400_in_googles_shape(service):
    request = (
        b"POST " + TRANSLATE.encode() + b" HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"
    )
    status, answer = _raw(service, request)
    assert status == 400
    assert answer["error"]["status"] == "INVALID_ARGUMENT"


@pytest.mark.parametrize("path", ["/robots.txt", "/v3/%0A", "/favicon.ico"])
def test_paths_the_app_does_not_serve_are_404_json(service, path):
    response = requests.get(f"{service.url}{path}", timeout=10)
    assert response.status_code == 404
    assert response.json()["error"]["status"] == "NOT_FOUND"


def test_the_service_still_answers_after_all_of_it(service):
    assert requests.get(f"{service.url}/health", timeout=10).status_code == 200
    assert service.alive()
