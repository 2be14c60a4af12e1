"""The local stack: the cloud of `deploy/topology.yaml` on one machine.

`Stack.start()` starts, each as its own process: the Pub/Sub emulator (`local.pubsub`), Cloud
Storage (`local.gcs_emulator`, which publishes bucket notifications), every service of the
topology under functions-framework on its port with the `local` backend, and every host of the
topology (`local.vertex_host`: one port routing to the services, as Google's front end does);
then applies the
topology's wiring (topics, buckets, push subscriptions aimed at 127.0.0.1, notifications) with
the same code the cloud deploy uses (`deploy.wiring`). `stop()` stops everything, services first.
Every process's output goes to `log_sink` line by line, prefixed with the component's name.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from deploy.topology import Topology
from deploy.wiring import Change, Target, Wiring
from local.clients import Emulators
from local.harness import free_port, kill_group, service_command
from local.vertex_host import routes_for

ROOT = Path(__file__).resolve().parent.parent
PUBSUB_PORT = 8085  # the official emulator's default
STORAGE_PORT = 9023  # gcp-storage-emulator's default
START_TIMEOUT_S = 60.0


@dataclasses.dataclass
class Component:
    name: str
    argv: list[str]
    env: dict[str, str]
    port: int
    health_path: str | None = None  # HTTP route answering 200 when ready; else the port opening
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def free_ports_for(topology: Topology) -> dict[str, int]:
    """A free port for every service and host: stacks side by side (tests) never collide."""
    return {name: free_port() for name in (*topology.services, *topology.hosts)}


class Stack:
    def __init__(
        self,
        topology: Topology,
        *,
        project: str = "local-project",
        data_dir: Path | None = None,
        pubsub_port: int = PUBSUB_PORT,
        storage_port: int = STORAGE_PORT,
        service_ports: dict[str, int] | None = None,
        service_env: dict[str, str] | None = None,
        log_sink: Callable[[str, str], None] | None = None,
    ) -> None:
        self.topology = topology.render(project)
        self.project = project
        self.data_dir = data_dir
        self.emulators = Emulators(
            f"127.0.0.1:{pubsub_port}", f"http://127.0.0.1:{storage_port}", project
        )
        self._log_sink = log_sink or _print_line
        self._service_env = service_env or {}
        ports = {name: service.port for name, service in self.topology.services.items()}
        ports.update({name: host.port for name, host in self.topology.hosts.items()})
        ports.update(service_ports or {})
        self.components = [self._pubsub(pubsub_port), self._storage(storage_port)]
        self.components += [self._service(name, ports[name]) for name in self.topology.services]
        self.components += [self._host(name, ports) for name in self.topology.hosts]
        self.changes: list[Change] = []
        self._threads: list[threading.Thread] = []

    # -- the components -------------------------------------------------------------------------

    def _python(self, *args: str) -> list[str]:
        return [sys.executable, *args]

    def _pubsub(self, port: int) -> Component:
        argv = self._python("-m", "local.pubsub", "--host", "127.0.0.1", "--port", str(port))
        if self.data_dir:
            argv += ["--data-dir", str(self.data_dir / "pubsub")]
        return Component("pubsub", argv, {}, port)

    def _storage(self, port: int) -> Component:
        argv = self._python("-m", "local.gcs_emulator", "--host", "127.0.0.1", "--port", str(port))
        if self.data_dir:
            argv += ["--data-dir", str(self.data_dir / "storage")]
        return Component(
            "storage", argv, {"PUBSUB_EMULATOR_HOST": self.emulators.pubsub_host}, port
        )

    def _service(self, name: str, port: int) -> Component:
        service = self.topology.services[name]
        argv = service_command(name, service.target, "127.0.0.1", port, service.env)
        env = {
            **service.env,
            **self.emulators.env(),
            "PORT": str(port),
            "HOST": "127.0.0.1",
            "ML_BACKEND": "local",
            "LOG_FORMAT": "json",
            **self._service_env,
        }
        return Component(name, argv, env, port, health_path="/health")

    def _host(self, name: str, ports: dict[str, int]) -> Component:
        urls = {service: f"http://127.0.0.1:{ports[service]}" for service in self.topology.services}
        routes = routes_for(self.topology.hosts[name].routes, urls)
        argv = self._python("-m", "local.vertex_host", "--port", str(ports[name]))
        argv += [f"--route={collection}={url}" for collection, url in routes.items()]
        return Component(name, argv, {}, ports[name], health_path="/health")

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> list[Change]:
        try:
            for component in self.components:
                self._spawn(component)
            for component in self.components:
                self._wait_ready(component)
            self.changes = self.wire()
        except BaseException:
            self.stop()
            raise
        return self.changes

    def wire(self) -> list[Change]:
        target = Target(
            project=self.project,
            service_urls={c.name: c.url for c in self.components if c.health_path},
            push_service_account=f"push-invoker@{self.project}.iam.gserviceaccount.com",
        )
        wiring = Wiring(
            self.topology,
            target,
            publisher=self.emulators.publisher(),
            subscriber=self.emulators.subscriber(),
            storage_client=self.emulators.storage(),
        )
        return wiring.apply()

    def stop(self) -> None:
        # Services first, so nothing publishes into an emulator that is going away.
        for component in reversed(self.components):
            process = component.process
            if process is None or process.poll() is not None:
                continue
            process.send_signal(signal.SIGTERM)
        for component in reversed(self.components):
            process = component.process
            if process is None:
                continue
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            kill_group(process.pid)
        for thread in self._threads:
            thread.join(timeout=2)

    def restart(self, component: Component) -> None:
        """Start a component that died again; the wiring is applied again after an emulator
        came back (without a data directory it comes back empty; with one it is a no-op). What
        is left of the dead one goes first: its workers would go on serving its port."""
        if component.process is not None:
            kill_group(component.process.pid)
        self._spawn(component)
        self._wait_ready(component)
        if component.name in ("pubsub", "storage"):
            self.changes = self.wire()

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.stop()

    def service_url(self, name: str) -> str:
        return next(c.url for c in self.components if c.name == name)

    def endpoints(self) -> list[tuple[str, str, str]]:
        """(component, URL, what it serves) for the table `mlapi up` prints."""
        rows = [
            ("pubsub", f"{self.emulators.pubsub_host}", "PUBSUB_EMULATOR_HOST (gRPC + REST)"),
            ("storage", self.emulators.storage_url, "STORAGE_EMULATOR_HOST"),
        ]
        for component in self.components[2:]:
            host = self.topology.hosts.get(component.name)
            if host is not None:
                routed = ", ".join(host.routes)
                rows.append((component.name, component.url, f"one host for {routed}"))
            else:
                rows.append((component.name, component.url, "REST API, /events, /health"))
        return rows

    def alive(self) -> dict[str, bool]:
        return {c.name: c.process is not None and c.process.poll() is None for c in self.components}

    # -- helpers --------------------------------------------------------------------------------

    def _spawn(self, component: Component) -> None:
        env = {**os.environ, **component.env}
        # The children must not inherit a parent's emulator settings for the wrong stack.
        for key in ("PUBSUB_EMULATOR_HOST", "STORAGE_EMULATOR_HOST"):
            if key not in component.env:
                env.pop(key, None)
        component.process = subprocess.Popen(
            component.argv,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # a group of its own, so `restart` can clear what is left
        )
        thread = threading.Thread(
            target=self._pump, args=(component,), daemon=True, name=f"log-{component.name}"
        )
        thread.start()
        self._threads.append(thread)

    def _pump(self, component: Component) -> None:
        process = component.process
        if process is None or process.stdout is None:
            return
        for raw in process.stdout:
            self._log_sink(component.name, raw.decode(errors="replace").rstrip("\n"))

    def _wait_ready(self, component: Component) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert component.process is not None
            if component.process.poll() is not None:
                raise RuntimeError(
                    f"{component.name} exited with code "
                    f"{component.process.returncode} while starting"
                )
            if self._ready(component):
                return
            time.sleep(0.05)
        raise TimeoutError(f"{component.name} was not ready within {START_TIMEOUT_S} s")

    @staticmethod
    def _ready(component: Component) -> bool:
        if component.health_path:
            url = component.url + component.health_path
            with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=1):  # noqa: S310
                return True
            return False
        with (
            contextlib.suppress(OSError),
            socket.create_connection(("127.0.0.1", component.port), timeout=0.2),
        ):
            return True
        return False


def _print_line(name: str, line: str) -> None:
    print(f"{name:>12} | {line}", flush=True)
