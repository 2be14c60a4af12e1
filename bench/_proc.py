"""Benches' process helpers: a service started as Cloud Run runs it
(`local.harness.ServiceProcess`), and the memory of a process tree (a service, its gunicorn
worker, its Apertium pipelines)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from local.harness import ServiceProcess


def start(service: str, target: str | None = None, **env: str) -> ServiceProcess:
    """`service` under functions-framework on a free port, ready; `.startup_seconds` is the
    time from process start to the first answer of its health route."""
    log = Path(tempfile.mkdtemp(prefix="bench-")) / f"{service}.log"
    return ServiceProcess(service, target or service, env=env, log_path=log)


def tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            todo.extend(int(child) for child in task.read_text().split())
    return pids


def _status_mb(pid: int, field: str, whole_tree: bool = True) -> float:
    """`field` of /proc/PID/status (VmRSS, VmHWM) summed over `pid` and its descendants (or of
    `pid` alone), in MiB (shared pages counted per process)."""
    total = 0
    for member in tree(pid) if whole_tree else [pid]:
        try:
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith(f"{field}:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            continue
    return total / 1024


def rss_mb(pid: int, whole_tree: bool = True) -> float:
    """Summed RSS of `pid` and its descendants (or of `pid` alone), in MiB."""
    return _status_mb(pid, "VmRSS", whole_tree)


def peak_mb(pid: int) -> float:
    """Summed peak RSS (high-water mark) of `pid` and its descendants, in MiB."""
    return _status_mb(pid, "VmHWM")
