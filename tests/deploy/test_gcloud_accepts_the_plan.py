"""Every gcloud command of the deploy plan, run through gcloud itself.

gcloud parses each command (a usage error exits 2) and sends its requests to a recording
server on 127.0.0.1 (`api_endpoint_overrides` for every API the plan touches, a fake access
token), so nothing leaves the machine and no Google account is needed. The server answers `{}`:
enough for gcloud to get past argument parsing and build its requests, which is what this test
checks; what Google would answer cannot be checked here.
"""

from __future__ import annotations

import concurrent.futures
import http.server
import os
import shutil
import subprocess
import threading
import time

import pytest

from deploy.plan import Planner, Target
from deploy.topology import DEFAULT_PATH, load

pytestmark = pytest.mark.skipif(
    shutil.which("gcloud") is None,
    reason="gcloud is not installed on this machine: the plan's commands were not run through it",
)
APIS = (
    "run",
    "pubsub",
    "iam",
    "storage",
    "serviceusage",
    "artifactregistry",
    "cloudresourcemanager",
)
FAKE = {"${PROJECT_NUMBER}": "123456789"}


class Recorder(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        self.requests: list[tuple[float, str, str]] = []
        super().__init__(("127.0.0.1", 0), _Handler)
        threading.Thread(target=self.serve_forever, daemon=True, name="recorder").start()


class _Handler(http.server.BaseHTTPRequestHandler):
    server: Recorder

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.requests.append((time.monotonic(), self.command, self.path))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

    def log_message(self, *_args) -> None:
        pass


def _shape(command: tuple[str, ...]) -> tuple:
    """Commands that differ only in values test the same thing once."""
    words = tuple(a for a in command if not a.startswith("-"))[:4]
    flags = tuple(sorted(a.split("=")[0] for a in command if a.startswith("-")))
    return words, flags


def _commands() -> list[tuple[str, ...]]:
    planner = Planner(load(DEFAULT_PATH), Target("my-project", "europe-west1", "mlapi", "abc"))
    urls = {
        f"${{{planner.url_variable(s)}}}": f"https://{s}-abc-ew.a.run.app"
        for s in planner.topology.services
    }
    unique: dict[tuple, tuple[str, ...]] = {}
    for step in planner.steps():
        for command in step.gcloud_commands():
            resolved = []
            for arg in command:
                for name, value in {**FAKE, **urls}.items():
                    arg = arg.replace(name, value)
                resolved.append(arg)
            unique.setdefault(_shape(tuple(resolved)), tuple(resolved))
    return list(unique.values())


def test_gcloud_accepts_every_command_of_the_plan(tmp_path):
    recorder = Recorder()
    token = tmp_path / "token"
    token.write_text("fake-access-token")
    env = {
        **os.environ,
        "CLOUDSDK_CONFIG": str(tmp_path / "gcloud"),
        "CLOUDSDK_CORE_DISABLE_PROMPTS": "1",
        "CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK": "1",
        "CLOUDSDK_CORE_DISABLE_USAGE_REPORTING": "1",
    }
    for api in APIS:
        env[f"CLOUDSDK_API_ENDPOINT_OVERRIDES_{api.upper()}"] = (
            f"http://127.0.0.1:{recorder.server_address[1]}/"
        )

    def run(command: tuple[str, ...]) -> tuple[tuple[str, ...], int | None, str, bool]:
        started = time.monotonic()
        try:
            result = subprocess.run(
                [*command, f"--access-token-file={token}"],
                env=env,
                capture_output=True,
                text=True,
                timeout=15,
            )
            code, stderr = result.returncode, result.stderr
        except subprocess.TimeoutExpired:
            code, stderr = None, "timed out (polling the fake API)"
        sent = any(at >= started for at, _, _ in recorder.requests)
        return command, code, stderr, sent

    commands = _commands()
    assert len(commands) >= 15
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(run, commands))
    recorder.shutdown()
    refused = [
        (" ".join(c[:5]), err.strip().splitlines()[-1:])
        for c, code, err, _ in results
        if code == 2 or "unrecognized arguments" in err
    ]
    assert refused == []
    # Commands that call an API reached the recorder (print-identity-token needs no API).
    # A timeout means gcloud got past parsing and kept polling the fake API: accepted.
    silent = [
        " ".join(c[:5])
        for c, code, _, sent in results
        if code is not None and not sent and "print-identity-token" not in c
    ]
    assert silent == []
