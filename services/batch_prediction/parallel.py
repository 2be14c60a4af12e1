"""Shards of one job scored in parallel processes (`WORKERS` > 1, local engine).

Parsing JSON dominates a batch job and holds the GIL, so threads would not help; processes do,
one per core. They are spawned, never forked: the service process runs threads (the web
server, gRPC, the job pool) and a fork would copy their locks mid-use. Each worker loads the
model once (from the artifact bytes it is handed) and opens its own storage client; a shard's
files are written by the worker that scores it, exactly as `engine.score_shard` does in
process, so the output and the resume rules are the same.

A cancel is seen between shards (finished shards keep their files; the rest are dropped).
Spawning costs a second or two of imports per worker, so a job with one pending shard is
scored in process.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
from collections.abc import Callable
from typing import Any

from services.batch_prediction import engine
from services.batch_prediction.models import load
from services.batch_prediction.objects import Objects
from shared.registry import ModelVersion

_worker: dict[str, Any] = {}


def _init(version: dict[str, Any], artifact: bytes, allow_local: bool) -> None:
    _worker["model"] = load(ModelVersion.from_json(version), artifact)
    _worker["objects"] = Objects(
        os.environ.get("GOOGLE_CLOUD_PROJECT"), allow_local_files=allow_local
    )


def _score(shard: engine.Shard, plan: engine.Plan) -> tuple[int, int]:
    return engine.score_shard(shard, plan, _worker["model"], _worker["objects"])


def run(
    plan: engine.Plan,
    pending: list[engine.Shard],
    version: ModelVersion,
    artifact: bytes,
    *,
    workers: int,
    allow_local: bool,
    on_shard: Callable[[int, int, int], None],
    on_tick: Callable[[], None],
    tick_seconds: float,
) -> None:
    """Score `pending` on `workers` processes; `on_shard(number, ok, failed)` is called in
    this thread as each shard ends, and `on_tick()` at least every `tick_seconds` meanwhile
    (spawning workers and scoring a shard take seconds: the job's heartbeat must go on, or
    another process takes the job for orphaned). Either may raise (`engine.Cancelled`) to stop
    the rest."""
    context = multiprocessing.get_context("spawn")
    pool = concurrent.futures.ProcessPoolExecutor(
        min(workers, len(pending)),
        mp_context=context,
        initializer=_init,
        initargs=(version.to_json(), artifact, allow_local),
    )
    try:
        futures = {pool.submit(_score, shard, plan): shard for shard in pending}
        waiting = set(futures)
        while waiting:
            finished, waiting = concurrent.futures.wait(
                waiting, timeout=tick_seconds, return_when=concurrent.futures.FIRST_COMPLETED
            )
            for future in finished:
                ok, failed = future.result()
                on_shard(futures[future].number, ok, failed)
            on_tick()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
