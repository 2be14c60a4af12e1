"""Fixtures shared by every test: free ports, real service processes, the storage emulator.

Everything runs for real: a service is started as its own functions-framework process on a
free port and called over HTTP; Cloud Storage is `gcp-storage-emulator`. Each fixture uses its
own port and temporary directory, so tests run in parallel (`pytest -n 2`).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, process: subprocess.Popen, timeout: float = 30.0) -> float:
    """Poll `url` until it answers 200; the seconds it took. Fails fast if the process dies."""
    started = time.perf_counter()
    deadline = started + timeout
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return time.perf_counter() - started
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"port {port} did not open within {timeout} s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def pull_available(subscriber, subscription: str, max_messages: int = 100, wait: float = 2.0):
    """Pull and acknowledge what a subscription holds, waiting up to about `wait` seconds for
    the first message; [] when nothing comes (an empty answer, or a pull that hit its
    deadline: "nothing yet", not an error)."""
    from google.api_core import exceptions

    try:
        response = subscriber.pull(
            subscription=subscription, max_messages=max_messages, timeout=wait + 3.0
        )
    except (exceptions.DeadlineExceeded, exceptions.RetryError):
        return []
    if response.received_messages:
        subscriber.acknowledge(
            subscription=subscription, ack_ids=[r.ack_id for r in response.received_messages]
        )
    return [r.message for r in response.received_messages]


def push_envelope(
    data: bytes,
    attributes: Mapping[str, str] | None = None,
    message_id: str = "1",
    subscription: str = "projects/test-project/subscriptions/test",
) -> dict:
    """A Pub/Sub push body exactly as the real service wraps it: camelCase and snake_case ids
    and times, base64 data."""
    when = "2026-11-25T10:00:00Z"
    return {
        "message": {
            "data": base64.b64encode(data).decode(),
            "attributes": dict(attributes or {}),
            "messageId": message_id,
            "message_id": message_id,
            "publishTime": when,
            "publish_time": when,
        },
        "subscription": subscription,
    }


class OutputTopic:
    """A fresh topic on the Pub/Sub emulator with a subscription to read it back: where a
    workflow under test publishes (`name` goes in its OUTPUT_TOPIC)."""

    def __init__(self, emulators) -> None:
        tag = uuid.uuid4().hex[:8]
        self.name = f"out-{tag}"
        self.path = f"projects/{emulators.project}/topics/{self.name}"
        self._subscription = f"projects/{emulators.project}/subscriptions/read-{tag}"
        self._subscriber = emulators.subscriber()
        emulators.publisher().create_topic(name=self.path)
        self._subscriber.create_subscription(name=self._subscription, topic=self.path)

    @property
    def messages(self) -> list[tuple[str, bytes, dict]]:
        """(topic, data, attributes) of everything published so far. A workflow waits for each
        publish to be acknowledged, so once it has answered its messages are here."""
        found = []
        while batch := pull_available(self._subscriber, self._subscription, wait=1.0):
            found += [(self.path, m.data, dict(m.attributes)) for m in batch]
        return found


class ServiceProcess:
    """A service run the way Cloud Run runs it: functions-framework, `$PORT`, env settings."""

    def __init__(self, service: str, target: str, env: Mapping[str, str], log_path: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        environment = {
            **os.environ,
            "PORT": str(self.port),
            "ML_BACKEND": "local",
            "LOG_FORMAT": "json",
            "GOOGLE_CLOUD_PROJECT": "test-project",
            **env,
        }
        self.process = subprocess.Popen(
            [
                str(BIN / "functions-framework"),
                "--source",
                f"services/{service}/main.py",
                "--target",
                target,
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            cwd=ROOT,
            env=environment,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.log_path = log_path
        self.startup_seconds = wait_for_http(f"{self.url}/health", self.process)

    def alive(self) -> bool:
        return self.process.poll() is None

    def logs(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        stop(self.process)
        self._log.close()


class EmulatorProcess:
    """``python -m local.pubsub`` in a subprocess on a free port."""

    def __init__(
        self,
        *args: str,
        data_dir: str | None = None,
        port: int = 0,
        env: dict[str, str] | None = None,
    ) -> None:
        cmd = [sys.executable, "-m", "local.pubsub", "--port", str(port), *args]
        if data_dir:
            cmd += ["--data-dir", data_dir]
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.log: list[str] = []
        threading.Thread(target=self._drain, daemon=True).start()
        self.port = self._wait_ready()
        self.target = f"127.0.0.1:{self.port}"

    def _drain(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.log.append(line)
            self.lines.put(line)

    def _wait_ready(self, timeout: float = 15.0) -> int:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            try:
                message = json.loads(line).get("message", "")
            except ValueError:
                continue
            if message.startswith("Server started, listening on "):
                return int(message.rsplit(" ", 1)[1])
        self.proc.kill()
        raise RuntimeError("emulator did not start:\n" + "".join(self.log))

    def kill(self) -> None:
        """kill -9: no chance to flush anything."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode


@pytest.fixture(scope="session")
def pubsub_emulator() -> Iterator[str]:
    """The project's Pub/Sub emulator (`python -m local.pubsub`) on a free port; yields
    PUBSUB_EMULATOR_HOST. Pushes without a retry policy come back after 0.05-0.2 s, not the
    real 10-600 s, so failing pushes retry fast."""
    emulator = EmulatorProcess("--push-retry-min", "0.05", "--push-retry-max", "0.2")
    yield emulator.target
    emulator.stop()


@pytest.fixture(scope="session")
def gcs_emulator(tmp_path_factory, pubsub_emulator) -> Iterator[str]:
    """The stack's Cloud Storage (`local.gcs_emulator`: gcp-storage-emulator plus bucket
    notifications published to the session's Pub/Sub emulator); yields its URL."""
    port = free_port()
    log = open(tmp_path_factory.mktemp("gcs-notify") / "emulator.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "local.gcs_emulator", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PUBSUB_EMULATOR_HOST": pubsub_emulator},
    )
    try:
        wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)
        log.close()


@pytest.fixture
def emulators(pubsub_emulator, gcs_emulator):
    """Official clients on the Pub/Sub emulator and the stack's Cloud Storage."""
    from local.clients import Emulators

    return Emulators(pubsub_emulator, gcs_emulator, "test-project")


@pytest.fixture
def output_topic(emulators, monkeypatch) -> OutputTopic:
    """A topic to publish to, read back through the emulator; this test's
    google-cloud-pubsub clients (`shared.pubsub.PubSubPublisher`) use the emulator."""
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", emulators.pubsub_host)
    return OutputTopic(emulators)


@pytest.fixture(scope="session")
def storage_emulator(tmp_path_factory) -> Iterator[str]:
    """`gcp-storage-emulator` in memory on a free port; yields STORAGE_EMULATOR_HOST."""
    port = free_port()
    log = open(tmp_path_factory.mktemp("gcs") / "emulator.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [
            str(BIN / "gcp-storage-emulator"),
            "start",
            "--port",
            str(port),
            "--host",
            "127.0.0.1",
            "--in-memory",
            "-q",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)
        log.close()


@pytest.fixture
def storage_env(storage_emulator, monkeypatch) -> str:
    """Points this test's google-cloud-storage clients at the emulator."""
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", storage_emulator)
    return storage_emulator


@pytest.fixture
def gcs(storage_env):
    """A google-cloud-storage client on the emulator."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    return storage.Client(project="test-project", credentials=AnonymousCredentials())
