"""Memory of a process tree (a service, its gunicorn worker, its Apertium pipelines)."""

from __future__ import annotations

from pathlib import Path


def tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            todo.extend(int(child) for child in task.read_text().split())
    return pids


def rss_mb(pid: int) -> float:
    """Summed RSS of `pid` and its descendants, in MiB (shared pages counted per process)."""
    total = 0
    for member in tree(pid):
        try:
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            continue
    return total / 1024
