"""Fixtures shared by every test: the Pub/Sub and Cloud Storage emulators, official clients
on them, a topic to read a workflow's output back.

Everything runs for real (`local.harness`): a service is started as its own functions-framework
process on a free port and called over HTTP; Pub/Sub is our emulator, Cloud Storage the stack's
(`local.gcs_emulator`). Each fixture uses its own port and temporary directory, so tests run in
parallel (`pytest -n 2`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest

# Re-exported: the tests import these from here as well as from `local.harness`.
from local.harness import (  # noqa: F401
    BIN,
    ROOT,
    EmulatorProcess,
    RecordingServer,
    ServiceProcess,
    free_port,
    push_envelope,
    stop,
    wait_for_http,
    wait_for_port,
)


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


@pytest.fixture(scope="session")
def pubsub_emulator() -> Iterator[str]:
    """The project's Pub/Sub emulator (`python -m local.pubsub`) on a free port; yields
    PUBSUB_EMULATOR_HOST. Pushes without a retry policy come back after 0.05-0.2 s, not the
    real 10-600 s, so failing pushes retry fast."""
    emulator = EmulatorProcess("--push-retry-min", "0.05", "--push-retry-max", "0.2")
    yield emulator.target
    emulator.stop()


@pytest.fixture
def emulators(pubsub_emulator, storage_emulator):
    """Official clients on the Pub/Sub emulator and the stack's Cloud Storage."""
    from local.clients import Emulators

    return Emulators(pubsub_emulator, storage_emulator, "test-project")


@pytest.fixture
def output_topic(emulators, monkeypatch) -> OutputTopic:
    """A topic to publish to, read back through the emulator; this test's
    google-cloud-pubsub clients (`shared.pubsub.PubSubPublisher`) use the emulator."""
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", emulators.pubsub_host)
    return OutputTopic(emulators)


@pytest.fixture(scope="session")
def storage_emulator(tmp_path_factory, pubsub_emulator) -> Iterator[str]:
    """The stack's Cloud Storage in memory (`local.gcs_emulator`: gcp-storage-emulator plus
    bucket notifications published to the session's Pub/Sub emulator) on a free port; yields
    its URL, as STORAGE_EMULATOR_HOST takes it."""
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
