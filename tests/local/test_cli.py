"""`mlapi`: the commands against a running stack, and `mlapi up` as the real process it is."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from deploy.topology import DEFAULT_PATH, load
from local.cli import main
from local.harness import free_port
from local.samples import TextImage, png_bytes, render
from local.stack import Stack, free_ports_for
from tests.conftest import ROOT

PROJECT = "cli-project"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    topology = load(DEFAULT_PATH)
    with Stack(
        topology,
        project=PROJECT,
        pubsub_port=free_port(),
        storage_port=free_port(),
        service_ports=free_ports_for(topology),
        log_sink=lambda *_: None,
    ) as stack:
        yield stack


def _ports_variable(ports: dict[str, int]) -> str:
    return ",".join(f"{name}={port}" for name, port in ports.items())


@pytest.fixture
def env(stack) -> dict[str, str]:
    ports = {name: int(url.rsplit(":", 1)[1]) for name, url, _ in stack.endpoints()[2:]}
    return {
        **stack.emulators.env(),
        "GOOGLE_CLOUD_PROJECT": PROJECT,
        "MLAPI_SERVICE_PORTS": _ports_variable(ports),
    }


def test_upload_and_tail(stack, env, tmp_path):
    tail = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "local.cli",
            "tail",
            "text-ready",
            "--count",
            "2",
            "--timeout",
            "60",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    time.sleep(1.5)  # tail creates its subscription first; messages before that are not its
    files = []
    for index, text in enumerate(("First upload", "Second upload")):
        path = tmp_path / f"page-{index}.png"
        path.write_bytes(png_bytes(render(TextImage((text,), size=30))))
        files.append(str(path))
    result = CliRunner().invoke(main, ["upload", *files, "--prefix", "cli/"], env=env)
    assert result.exit_code == 0, result.output
    assert f"uploaded 2 file(s) to gs://{PROJECT}-images/cli/" in result.output
    out, _ = tail.communicate(timeout=60)
    lines = [json.loads(line) for line in out.decode().splitlines()]
    assert sorted(line["data"].strip() for line in lines) == ["First upload", "Second upload"]
    assert {line["attributes"]["producer"] for line in lines} == {"vision"}
    subscriptions = stack.emulators.subscriber().list_subscriptions(project=f"projects/{PROJECT}")
    assert not any("mlapi-tail" in s.name for s in subscriptions)  # cleaned up


def test_status_shows_services_backlog_and_dead_letters(stack, env):
    stack.emulators.publisher().publish(
        f"projects/{PROJECT}/topics/text-ready", b"waiting"
    ).result()
    result = CliRunner().invoke(main, ["status"], env=env)
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line.split() for line in result.output.splitlines() if line}
    assert rows["vision"][2] == "ok"
    assert rows["language"][2] == "ok"
    assert rows["translation"][2] == "ok"
    assert rows["text-ready-sink"][-1] != "?"
    assert int(rows["text-ready-sink"][-1]) >= 1
    assert rows["vision-dead-letter"][-1] == "0"


def test_up_starts_everything_and_stops_cleanly_on_sigterm(tmp_path):
    env = {
        **os.environ,
        "MLAPI_PUBSUB_PORT": str(free_port()),
        "MLAPI_STORAGE_PORT": str(free_port()),
        "MLAPI_SERVICE_PORTS": _ports_variable(free_ports_for(load(DEFAULT_PATH))),
        "MLAPI_DATA_DIR": str(tmp_path),
    }
    env.pop("PUBSUB_EMULATOR_HOST", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "local.cli", "up"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    output = b""
    deadline = time.monotonic() + 60
    while b"logs follow" not in output:
        assert time.monotonic() < deadline, output.decode()
        output += process.stdout.readline()
    process.send_signal(signal.SIGTERM)
    rest, _ = process.communicate(timeout=30)
    text = (output + rest).decode()
    assert process.returncode == 0, text
    assert "vision" in text
    assert "subscription  vision-images" in text
    assert "stopping" in text


def test_up_reports_a_broken_topology(tmp_path):
    broken = tmp_path / "topology.yaml"
    broken.write_text("services:\n  vision:\n    port: 1\n")
    result = CliRunner().invoke(main, ["up", "--topology", str(broken)])
    assert result.exit_code != 0
    assert f"{broken}:3:" in result.output
