"""`mlapi up` supervises its components: one that dies is started again with backoff while the
others keep running, restarts are shown, and a component that keeps dying stops the stack."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from deploy.topology import DEFAULT_PATH, load
from local.harness import free_port
from local.stack import Component, Stack
from local.status import collect
from local.supervision import GaveUp, Supervisor, read_state

PROJECT = "supervised"


def _small_topology():
    """The shipped topology cut down to translation and the topics it publishes to."""
    topology = load(DEFAULT_PATH)
    translation = topology.services["translation"]
    topic = translation.env["OUTPUT_TOPIC"]
    return topology.model_copy(
        update={
            "services": {"translation": translation},
            "topics": {topic: topology.topics[topic]},
            "subscriptions": {},
            "hosts": {},
            "buckets": {},
        }
    )


@pytest.fixture
def stack(tmp_path):
    stack = Stack(
        _small_topology(),
        project=PROJECT,
        data_dir=tmp_path / "data",
        pubsub_port=free_port(),
        storage_port=free_port(),
        service_ports={"translation": free_port()},
        log_sink=lambda _name, _line: None,
    )
    with stack:
        yield stack


def _until(check, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "not reached in time"
        time.sleep(0.05)


def _group_alive(pgid: int) -> bool:
    """A live (not zombie) process is still in group `pgid`."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, _ppid, group = stat.read_text().rpartition(")")[2].split()[:3]
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(group) == pgid and state != "Z":
            return True
    return False


def _kill(component: Component) -> None:
    assert component.process is not None
    component.process.kill()
    component.process.wait()


def test_a_dead_service_and_a_dead_emulator_come_back_and_the_rest_keeps_running(stack, tmp_path):
    reports: list[str] = []
    supervisor = Supervisor(stack, state_dir=tmp_path, backoff_s=0.05, report=reports.append)
    translation = next(c for c in stack.components if c.name == "translation")
    pubsub = next(c for c in stack.components if c.name == "pubsub")
    storage_pid = next(c for c in stack.components if c.name == "storage").process.pid
    dead_group = translation.process.pid

    _kill(translation)
    _kill(pubsub)
    _until(lambda: (supervisor.check(), all(stack.alive().values()))[1])

    assert requests.get(f"{translation.url}/health", timeout=10).status_code == 200
    # The killed server's worker outlives it; the restart cleared its group first.
    assert not _group_alive(dead_group)
    assert next(c for c in stack.components if c.name == "storage").process.pid == storage_pid
    # The emulator came back wired: the topology's topic exists again.
    topic = f"projects/{PROJECT}/topics/translation-done"
    assert stack.emulators.publisher().get_topic(topic=topic).name == topic
    state = read_state(tmp_path)
    assert state["translation"]["restarts"] == 1
    assert state["pubsub"]["restarts"] == 1
    assert any("translation exited" in line for line in reports)
    report = collect(
        str(DEFAULT_PATH),
        stack.emulators,
        {"translation": translation.port},
        state_dir=tmp_path,
    )
    shown = {row[0]: row for row in report.services}
    assert shown["translation"][2:] == ("ok", "1")
    assert shown["pubsub"][3] == "1"


def test_a_component_that_keeps_dying_stops_the_stack(stack, tmp_path):
    crashing = Component("crasher", [sys.executable, "-c", "import sys; sys.exit(3)"], {}, 1)
    crashing.process = subprocess.Popen(crashing.argv)
    crashing.process.wait()
    stack.components.append(crashing)
    reports: list[str] = []
    supervisor = Supervisor(
        stack, state_dir=tmp_path, max_failures=3, backoff_s=0.1, report=reports.append
    )

    with pytest.raises(GaveUp, match="crasher exited 3 times in a row"):
        _until(lambda: supervisor.check() and False, timeout=60)

    assert read_state(tmp_path)["crasher"]["restarts"] == 3
    assert read_state(tmp_path)["crasher"]["lastExit"] == 3
    # The backoff doubles: the pauses reported grow.
    pauses = [
        float(line.split("restarting in ")[1].split(" s")[0])
        for line in reports
        if "restarting in" in line
    ]
    assert pauses == sorted(pauses)
    assert pauses[-1] > pauses[0]
    stack.components.remove(crashing)


def test_a_component_stable_for_a_while_has_its_failures_forgotten(stack, tmp_path):
    now = [0.0]
    supervisor = Supervisor(
        stack, state_dir=tmp_path, max_failures=1, backoff_s=0.0, stable_s=10,
        clock=lambda: now[0], report=lambda _line: None,
    )  # fmt: skip
    translation = next(c for c in stack.components if c.name == "translation")
    for _ in range(3):  # each death comes after a long stable run: never given up on
        now[0] += 60
        _kill(translation)
        supervisor.check()  # scheduled
        supervisor.check()  # restarted
        assert translation.process.poll() is None
    assert supervisor.health["translation"].restarts == 3
