"""The project's parts run as real processes, and what calls them: for the tests, the benches
and anyone checking a change by hand. Nothing here is mocked.

- `ServiceProcess`: a service the way Cloud Run runs it (functions-framework, `$PORT`, settings
  from the environment), on a free port, ready when its health route answers;
- `EmulatorProcess`: our Pub/Sub emulator (`python -m local.pubsub`) on a free port;
- `RecordingServer`: a stand-in for a Google API on 127.0.0.1 that answers recorded real-format
  responses and remembers what it was sent (for the `cloud` backends through
  `CLOUD_API_ENDPOINT`);
- `push_envelope`: a Pub/Sub push body exactly as the real service wraps it.
"""

from __future__ import annotations

import base64
import contextlib
import http.server
import json
import os
import queue
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


# Ports for servers come from below the kernel's ephemeral range: a port the kernel hands out
# for `bind(0)` is one it also gives outgoing connections, so between the pick and the server's
# own bind any client socket of a parallel test could take it ("Address already in use", seen
# when a stack started its services one by one while another test made requests).
_LOWEST = 20_000
_random = random.SystemRandom()  # no shared seed: forked test workers pick apart


def _ephemeral_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


def free_port() -> int:
    """A port on 127.0.0.1 that nothing is bound to now, outside the ephemeral range."""
    end = _ephemeral_start()
    for _ in range(100 if end - _LOWEST >= 1000 else 0):
        port = _random.randrange(_LOWEST, end)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# A refused connection costs microseconds; a coarse poll would add up to its period to every
# start a test waits for and to the cold starts `bench/` reports.
POLL_S = 0.01


def wait_for_http(url: str, process: subprocess.Popen, timeout: float = 30.0) -> float:
    """Poll `url` until it answers 200; the seconds it took. Fails fast if the process dies."""
    started = time.perf_counter()
    deadline = started + timeout
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return time.perf_counter() - started
        except OSError:
            time.sleep(POLL_S)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(POLL_S)
    raise TimeoutError(f"port {port} did not open within {timeout} s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def kill_group(pid: int) -> None:
    """SIGKILL what is left of the process group `pid` leads. A server's worker processes
    outlive a main process that was killed (granian's and gunicorn's do), and go on serving
    and running jobs; a process started with `start_new_session=True` leads its own group."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


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


def service_command(
    service: str, target: str, host: str, port: int, env: Mapping[str, str]
) -> list[str]:
    """How a service is started, as its image starts it (deploy/Dockerfile's `SERVER`): its
    main target through `shared.serving` (granian) or gunicorn, any other functions-framework
    target (`<name>_events`) through functions-framework, as Cloud Functions runs it."""
    app = f"services.{service}.main:app"
    server = env.get("SERVER", "granian")
    if target == service and server == "gunicorn":
        return [str(BIN / "gunicorn"), "--bind", f"{host}:{port}", "--workers",
                env.get("WORKERS", "1"), "--threads", env.get("THREADS", "8"),
                "--worker-class", "gthread", "--timeout", "0", "--preload", app]  # fmt: skip
    if target == service and server != "functions-framework":
        return [sys.executable, "-m", "shared.serving", app]
    source = f"services/{service}/main.py"
    return [str(BIN / "functions-framework"), "--source", source, "--target", target,
            "--host", host, "--port", str(port)]  # fmt: skip


class ServiceProcess:
    """A service run the way Cloud Run runs it (`service_command`), `$PORT`, env settings."""

    def __init__(
        self,
        service: str,
        target: str,
        env: Mapping[str, str],
        log_path: Path,
        *,
        wait_ready: bool = True,
    ):
        """Started, and with `wait_ready` answering its health route (`startup_seconds`
        is how long that took); without, no request is sent."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        environment = {
            **os.environ,
            "PORT": str(self.port),
            "HOST": "127.0.0.1",
            "ML_BACKEND": "local",
            "LOG_FORMAT": "json",
            "GOOGLE_CLOUD_PROJECT": "test-project",
            **env,
        }
        self.process = subprocess.Popen(
            service_command(service, target, "127.0.0.1", self.port, environment),
            cwd=ROOT,
            env=environment,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its workers too can be killed, as a container's are
        )
        self.log_path = log_path
        self.startup_seconds = (
            wait_for_http(f"{self.url}/health", self.process) if wait_ready else None
        )

    def alive(self) -> bool:
        return self.process.poll() is None

    def logs(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """The instance dies at once, workers and all: a crash, or Cloud Run stopping it."""
        kill_group(self.process.pid)
        self.process.wait()

    def stop(self) -> None:
        stop(self.process)
        kill_group(self.process.pid)
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


# A route of a `RecordingServer`: (status, body, extra headers) for a request's path.
Reply = tuple[int, bytes, Mapping[str, str]]


class RecordingServer(http.server.ThreadingHTTPServer):
    """Answers each request with `reply(method, path)` (by default the `recording` bytes with
    `status`); remembers (method, path, headers, body) of everything it got in `received`."""

    def __init__(self, reply: Callable[[str, str], Reply] | None = None) -> None:
        self.reply = reply or (lambda _method, _path: (self.status, self.recording, {}))
        self.recording = b"{}"
        self.status = 200
        self.received: list[tuple[str, str, dict[str, str], bytes]] = []
        super().__init__(("127.0.0.1", 0), _RecordingHandler)
        threading.Thread(target=self.serve_forever, daemon=True, name="recording").start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def sent_json(self, index: int = -1) -> dict:
        """The JSON body of a request received (the last by default)."""
        return json.loads(self.received[index][3])

    def close(self) -> None:
        self.shutdown()
        self.server_close()


class _RecordingHandler(http.server.BaseHTTPRequestHandler):
    server: RecordingServer

    def _answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
        self.server.received.append((self.command, self.path, dict(self.headers), body))
        status, payload, headers = self.server.reply(self.command, self.path)
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PATCH = do_DELETE = _answer

    def log_message(self, *_args: object) -> None:
        pass
