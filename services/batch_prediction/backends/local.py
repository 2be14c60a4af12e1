"""The local engine: a job's shards scored on this machine, in this process or, with
`SCORING_PROCESSES` > 1, on that many scoring processes kept for the life of the service
(`backends.pool`).

In process, shard after shard, chunk after chunk (`shards.score_shard`); a cancel is seen
after every chunk. On the processes, a cancel is seen between shards (finished shards keep
their files; the rest are dropped). A job with one pending shard is scored in process.
"""

from __future__ import annotations

from collections.abc import Sequence

from services.batch_prediction.backends.base import Plan, Progress, Shard
from services.batch_prediction.backends.memory import keep_freed_memory
from services.batch_prediction.backends.pool import ScoringPool
from services.batch_prediction.backends.shards import score_shard
from services.batch_prediction.jobfiles import JobFiles
from services.batch_prediction.modelcache import ModelCache
from services.batch_prediction.settings import BatchPredictionSettings
from shared.registry import ModelVersion


class LocalEngine:
    def __init__(
        self, settings: BatchPredictionSettings, models: ModelCache, files: JobFiles
    ) -> None:
        self._settings = settings
        self._models = models
        self._files = files
        keep_freed_memory()  # jobs with one shard pending are scored here even with a pool
        self._pool: ScoringPool | None = None
        if settings.scoring_processes > 1:
            self._pool = ScoringPool(
                settings.scoring_processes, allow_local=settings.allow_local_files
            )
            self._pool.warm()

    def score(
        self, plan: Plan, pending: Sequence[Shard], version: ModelVersion, progress: Progress
    ) -> None:
        if self._pool is not None and len(pending) > 1:
            progress.check()
            self._pool.score(
                plan,
                pending,
                version,
                lambda: self._models.registry.read_artifact(version),
                progress,
                wait_seconds=self._settings.heartbeat_seconds,
                compiled=self._models.get(version).compiled,
            )
            return
        model = self._models.get(version)
        for shard in pending:
            ok, failed = score_shard(shard, plan, model, self._files, progress.chunk)
            progress.shard_done(shard.number, ok, failed)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
