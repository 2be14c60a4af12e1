"""What `mlapi status` shows: each service's health, each subscription with its backlog, and the
messages kept on dead-letter topics, read from the running stack."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import urllib.request
from pathlib import Path

from deploy.topology import load
from local.clients import Emulators
from local.supervision import read_state


@dataclasses.dataclass
class Report:
    services: list[tuple[str, str, str, str]]  # name, url, health, restarts
    subscriptions: list[tuple[str, str, str, str]]
    dead_letters: list[tuple[str, str]]


def collect(
    topology_path: str,
    emulators: Emulators,
    ports: dict[str, int] | None = None,
    state_dir: Path | None = None,
) -> Report:
    topology = load(topology_path).render(emulators.project)
    ports = {**{name: s.port for name, s in topology.services.items()}, **(ports or {})}
    urls = {name: f"http://127.0.0.1:{ports[name]}" for name in topology.services}
    # Restarts as `mlapi up` counts them (its state file); "-" when no supervised stack runs.
    supervised = read_state(state_dir) if state_dir else {}
    services = [
        (name, url, _health(f"{url}/health"), _restarts(supervised, name))
        for name, url in urls.items()
    ]
    services += [
        (name, str(entry.get("url", "")), "-", _restarts(supervised, name))
        for name, entry in supervised.items()
        if name in ("pubsub", "storage")
    ]
    backlog = _backlog(emulators.pubsub_host)
    subscriptions = []
    dead_letter_topics = {
        s.dead_letter.topic for s in topology.subscriptions.values() if s.dead_letter
    }
    kept: dict[str, int] = {}
    for name, sub in topology.subscriptions.items():
        path = f"projects/{emulators.project}/subscriptions/{name}"
        count = backlog.get(path)
        kind = f"push -> {sub.push.service}{sub.push.path}" if sub.push else "pull"
        subscriptions.append((name, sub.topic, kind, "?" if count is None else str(count)))
        if sub.topic in dead_letter_topics and count is not None:
            kept[sub.topic] = kept.get(sub.topic, 0) + count
    dead_letters = [(topic, str(kept.get(topic, "?"))) for topic in sorted(dead_letter_topics)]
    return Report(services, subscriptions, dead_letters)


def _restarts(supervised: dict[str, dict], name: str) -> str:
    entry = supervised.get(name)
    if entry is None:
        return "-"
    return f"{entry.get('restarts', 0)}" + (" (restarting)" if entry.get("waiting") else "")


# A service loading an engine for the first time (spaCy, torch) can hold the GIL for seconds.
HEALTH_TIMEOUT_S = 10.0


def _health(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=HEALTH_TIMEOUT_S) as response:  # noqa: S310
            return "ok" if response.status == 200 else f"HTTP {response.status}"
    except TimeoutError:
        return f"busy (no answer in {HEALTH_TIMEOUT_S:.0f} s)"
    except OSError as exc:
        return f"down ({exc.__class__.__name__})"


def _backlog(pubsub_host: str) -> dict[str, int]:
    """Unacknowledged messages per subscription, from the local emulator's stats route
    (Pub/Sub itself has no backlog API; Cloud Monitoring has `num_undelivered_messages`)."""
    with contextlib.suppress(OSError, ValueError):
        url = f"http://{pubsub_host}/_emulator/stats"
        with urllib.request.urlopen(url, timeout=2) as response:
            stats = json.load(response)
        return {name: int(s["backlog"]) for name, s in stats.get("subscriptions", {}).items()}
    return {}
