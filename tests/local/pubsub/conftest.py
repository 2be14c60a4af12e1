"""Fixtures for the local Pub/Sub emulator.

``EmulatorProcess`` (the emulator as a subprocess) lives in tests/conftest.py; here a
``pubsub_emulator`` per test module (these tests list and count resources of one project).

* ``pubsub_emulator`` (module scope): starts ``python -m local.pubsub --port 0`` as a
  subprocess, waits for its "Server started, listening on PORT" log line and yields
  ``"127.0.0.1:PORT"``, what ``PUBSUB_EMULATOR_HOST`` should hold. Push retries without a
  retry policy back off 0.05-0.2 s (``--push-retry-min/max``) so failing pushes come back fast.
  Stopped with SIGTERM after the module.

      def test_x(pubsub_emulator, monkeypatch):
          monkeypatch.setenv("PUBSUB_EMULATOR_HOST", pubsub_emulator)
          publisher = pubsub_v1.PublisherClient()

The rest are this folder's helpers: ``publisher`` / ``subscriber`` / ``schema_client``
(official clients on the module's emulator), ``names`` (unique resource paths per test),
``push_endpoint`` (a real HTTP server recording pushes), ``emulator_process`` (own processes,
e.g. to ``kill -9`` and restart on one ``--data-dir``) and ``clients_for``.
"""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import pytest
from google.cloud import pubsub_v1

from local.clients import Emulators
from tests.conftest import EmulatorProcess

ROOT = Path(__file__).resolve().parents[3]
PROJECT = "test-project"


def make_clients(target: str) -> tuple[pubsub_v1.PublisherClient, pubsub_v1.SubscriberClient]:
    """Official clients on insecure channels to ``target``, whatever PUBSUB_EMULATOR_HOST says."""
    emulators = Emulators(target, "", PROJECT)
    return emulators.publisher(), emulators.subscriber()


@pytest.fixture(scope="module")
def pubsub_emulator():
    """Yields "127.0.0.1:PORT" of an emulator subprocess that lives for the test module."""
    emulator = EmulatorProcess("--push-retry-min", "0.05", "--push-retry-max", "0.2")
    yield emulator.target
    emulator.stop()


@pytest.fixture(scope="module")
def clients(pubsub_emulator):
    publisher, subscriber = make_clients(pubsub_emulator)
    yield publisher, subscriber
    publisher.stop()
    subscriber.close()


@pytest.fixture(scope="module")
def schema_client(pubsub_emulator):
    """The official SchemaServiceClient on the module's emulator (insecure gRPC channel)."""
    import grpc
    from google.pubsub_v1.services.schema_service.transports import SchemaServiceGrpcTransport

    channel = grpc.insecure_channel(pubsub_emulator)
    client = pubsub_v1.SchemaServiceClient(transport=SchemaServiceGrpcTransport(channel=channel))
    yield client
    channel.close()


@pytest.fixture
def publisher(clients):
    return clients[0]


@pytest.fixture
def subscriber(clients):
    return clients[1]


class Names:
    """Unique resource paths for one test."""

    def __init__(self) -> None:
        self.tag = uuid.uuid4().hex[:10]

    def topic(self, suffix: str = "t") -> str:
        return f"projects/{PROJECT}/topics/{suffix}-{self.tag}"

    def sub(self, suffix: str = "s") -> str:
        return f"projects/{PROJECT}/subscriptions/{suffix}-{self.tag}"


@pytest.fixture
def names() -> Names:
    return Names()


def pull_until(
    subscriber, subscription: str, count: int, timeout: float = 10.0, ack: bool = True
) -> list:
    """Pulls until ``count`` messages arrived (acking them unless told not to)."""
    got: list = []
    end = time.monotonic() + timeout
    while len(got) < count and time.monotonic() < end:
        response = subscriber.pull(
            request={"subscription": subscription, "max_messages": count - len(got)},
            timeout=max(1.0, end - time.monotonic()),
        )
        got.extend(response.received_messages)
        if ack and response.received_messages:
            subscriber.acknowledge(
                request={
                    "subscription": subscription,
                    "ack_ids": [m.ack_id for m in response.received_messages],
                }
            )
    return got


class PushEndpoint:
    """A real HTTP/1.1 server in a thread that records push requests.

    ``respond(path, fn)`` sets how ``path`` answers: ``fn(record)`` returns a status code and
    may block (a stuck endpoint). Records are dicts with path, headers, body, client port.
    """

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        endpoint = self
        self.lock = threading.Lock()
        self.records: list[dict] = []
        self.behaviours: dict = {}

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                record = {
                    "path": self.path,
                    "headers": dict(self.headers.items()),
                    "body": self.rfile.read(length),
                    "port": self.client_address[1],
                    "time": time.monotonic(),
                }
                with endpoint.lock:
                    endpoint.records.append(record)
                    behaviour = endpoint.behaviours.get(self.path, lambda r: 204)
                status = behaviour(record)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 128  # the default 5 drops SYNs when many workers connect
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def respond(self, path: str, fn) -> None:
        with self.lock:
            self.behaviours[path] = fn

    def received(self, path: str) -> list[dict]:
        with self.lock:
            return [r for r in self.records if r["path"] == path]

    def wait_for(self, path: str, count: int, timeout: float = 10.0) -> list[dict]:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            got = self.received(path)
            if len(got) >= count:
                return got
            time.sleep(0.01)
        raise AssertionError(f"{path}: {len(self.received(path))} requests, wanted {count}")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def push_endpoint():
    endpoint = PushEndpoint()
    yield endpoint
    endpoint.close()


@pytest.fixture
def emulator_process(tmp_path):
    """Starts EmulatorProcess instances for one test and stops them afterwards."""
    started: list[EmulatorProcess] = []

    def start(*args: str, **kwargs) -> EmulatorProcess:
        process = EmulatorProcess(*args, **kwargs)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def clients_for():
    """``clients_for("host:port")`` -> (publisher, subscriber) on that emulator."""
    return make_clients
