"""Keeping `mlapi up` running when one of its components dies: the component is started again
with a growing pause between attempts (the others keep running), its restarts are counted and
written where `mlapi status` reads them, and only a component that keeps dying right after
every restart stops the stack.

A component that has stayed up for `stable_s` since its last restart has its failure count
cleared: a service that dies once a day is restarted every time; one that dies at start-up is
given up on after `max_failures` attempts.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

from local.stack import Component, Stack

log = logging.getLogger("local.supervision")

STATE_FILE = "stack.json"


class GaveUp(RuntimeError):
    """A component kept dying after its restarts: the stack should stop."""


@dataclasses.dataclass
class Health:
    restarts: int = 0  # in all, shown by `mlapi status`
    failures: int = 0  # in a row, each soon after a restart
    started_at: float = 0.0
    next_attempt_at: float | None = None  # set while waiting to restart
    last_exit: int | None = None


class Supervisor:
    def __init__(
        self,
        stack: Stack,
        *,
        state_dir: Path | None = None,
        max_failures: int = 5,
        backoff_s: float = 0.5,
        backoff_cap_s: float = 30.0,
        stable_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        report: Callable[[str], None] = print,
    ) -> None:
        self.stack = stack
        self.state_path = state_dir / STATE_FILE if state_dir else None
        self.max_failures = max_failures
        self.backoff_s = backoff_s
        self.backoff_cap_s = backoff_cap_s
        self.stable_s = stable_s
        self._clock = clock
        self._report = report
        now = clock()
        self.health = {c.name: Health(started_at=now) for c in stack.components}
        self._write_state()

    def check(self) -> None:
        """One round: restart what is due; raises `GaveUp` when a component keeps dying."""
        now = self._clock()
        for component in self.stack.components:
            health = self.health[component.name]
            process = component.process
            if process is not None and process.poll() is None:
                if health.failures and now - health.started_at >= self.stable_s:
                    health.failures = 0
                continue
            if health.next_attempt_at is None:
                self._schedule(component, health, now)
            elif now >= health.next_attempt_at:
                self._restart(component, health)

    def _schedule(self, component: Component, health: Health, now: float) -> None:
        health.last_exit = component.process.returncode if component.process else None
        if now - health.started_at >= self.stable_s:
            health.failures = 0
        health.failures += 1
        if health.failures > self.max_failures:
            self._write_state()
            raise GaveUp(
                f"{component.name} exited {health.failures - 1} times in a row soon after "
                f"being restarted (last exit code {health.last_exit}); stopping the stack"
            )
        pause = min(self.backoff_s * 2 ** (health.failures - 1), self.backoff_cap_s)
        health.next_attempt_at = now + pause
        self._report(
            f"{component.name} exited with code {health.last_exit}; "
            f"restarting in {pause:.1f} s (attempt {health.failures} of {self.max_failures})"
        )
        self._write_state()

    def _restart(self, component: Component, health: Health) -> None:
        health.next_attempt_at = None
        health.restarts += 1
        health.started_at = self._clock()
        try:
            self.stack.restart(component)
        except (RuntimeError, TimeoutError, OSError) as exc:
            # Counted as the next failure when `check` sees it dead (or kills it if it hangs).
            self._report(f"{component.name} did not come back: {exc}")
            if component.process is not None and component.process.poll() is None:
                component.process.kill()
                component.process.wait()
        else:
            self._report(f"{component.name} restarted (restart {health.restarts})")
        self._write_state()

    def _write_state(self) -> None:
        if self.state_path is None:
            return
        state = {
            "pid": os.getpid(),
            "components": {
                component.name: {
                    "url": component.url,
                    "pid": component.process.pid if component.process else None,
                    "restarts": self.health[component.name].restarts,
                    "waiting": self.health[component.name].next_attempt_at is not None,
                    "lastExit": self.health[component.name].last_exit,
                }
                for component in self.stack.components
            },
        }
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.state_path.with_suffix(".tmp")
        temporary.write_text(json.dumps(state, indent=1))
        temporary.replace(self.state_path)


def read_state(state_dir: Path) -> dict[str, dict]:
    """The components' restarts as the running `mlapi up` last wrote them; {} when none runs."""
    try:
        state = json.loads((state_dir / STATE_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return state.get("components", {}) if isinstance(state, dict) else {}
