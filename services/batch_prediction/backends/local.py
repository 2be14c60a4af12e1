"""The local engine: a job's shards scored on this machine, in this process or, with
`SCORING_PROCESSES` > 1, in that many spawned processes.

In process, shard after shard, chunk after chunk (`shards.score_shard`); a cancel is seen
after every chunk.

In processes: parsing JSON dominates a batch job and holds the GIL, so threads would not help;
processes do, one per core. They are spawned, never forked: the service process runs threads
(the web server, gRPC, the job pool, the heartbeat) and a fork would copy their locks mid-use.
Each process loads the model once (from the artifact bytes it is handed) and opens its own
storage client; a shard's files are written by the process that scores it, exactly as in
process, so the output and the resume rules are the same. A cancel is seen between shards
(finished shards keep their files; the rest are dropped). Spawning costs a second or two of
imports per process, so a job with one pending shard is scored in process.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
from collections.abc import Sequence
from typing import Any

from services.batch_prediction.backends.base import Plan, Progress, Shard
from services.batch_prediction.backends.shards import score_shard
from services.batch_prediction.jobfiles import JobFiles
from services.batch_prediction.modelcache import ModelCache
from services.batch_prediction.settings import BatchPredictionSettings
from shared.modelruntime import load
from shared.registry import ModelVersion
from shared.storage import Storage


class LocalEngine:
    def __init__(
        self, settings: BatchPredictionSettings, models: ModelCache, files: JobFiles
    ) -> None:
        self._settings = settings
        self._models = models
        self._files = files

    def score(
        self, plan: Plan, pending: Sequence[Shard], version: ModelVersion, progress: Progress
    ) -> None:
        processes = self._settings.scoring_processes
        if processes > 1 and len(pending) > 1:
            progress.check()
            score_in_processes(
                plan,
                pending,
                version,
                self._models.registry.read_artifact(version),
                processes=processes,
                allow_local=self._settings.allow_local_files,
                progress=progress,
                wait_seconds=self._settings.heartbeat_seconds,
            )
            return
        model = self._models.get(version)
        for shard in pending:
            ok, failed = score_shard(shard, plan, model, self._files, progress.chunk)
            progress.shard_done(shard.number, ok, failed)

    def close(self) -> None:
        pass


# What a scoring process holds: its model and its files (set by `_init`).
_process: dict[str, Any] = {}


def _init(version: dict[str, Any], artifact: bytes, allow_local: bool) -> None:
    _process["model"] = load(ModelVersion.from_json(version), artifact)
    _process["files"] = JobFiles(
        Storage(os.environ.get("GOOGLE_CLOUD_PROJECT")), allow_local_files=allow_local
    )


def _score(shard: Shard, plan: Plan) -> tuple[int, int]:
    return score_shard(shard, plan, _process["model"], _process["files"])


def score_in_processes(
    plan: Plan,
    pending: Sequence[Shard],
    version: ModelVersion,
    artifact: bytes,
    *,
    processes: int,
    allow_local: bool,
    progress: Progress,
    wait_seconds: float,
) -> None:
    """Score `pending` on `processes` spawned processes; `progress.shard_done` is called in
    this thread as each shard ends, and `progress.check()` at least every `wait_seconds`, so
    a cancel stops the rest."""
    context = multiprocessing.get_context("spawn")
    pool = concurrent.futures.ProcessPoolExecutor(
        min(processes, len(pending)),
        mp_context=context,
        initializer=_init,
        initargs=(version.to_json(), artifact, allow_local),
    )
    try:
        futures = {pool.submit(_score, shard, plan): shard for shard in pending}
        waiting = set(futures)
        while waiting:
            finished, waiting = concurrent.futures.wait(
                waiting, timeout=wait_seconds, return_when=concurrent.futures.FIRST_COMPLETED
            )
            for future in finished:
                ok, failed = future.result()
                progress.shard_done(futures[future].number, ok, failed)
            progress.check()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
