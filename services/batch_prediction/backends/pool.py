"""Scoring processes kept for the life of the service: a job's shards scored on them.

Parsing JSON dominates a batch job and holds the GIL, so threads would not help; processes
do, one per core. They are spawned, never forked: the service process runs threads (the web
server, the job pool, the heartbeat) and a fork would copy their locks mid-use. Spawning one
costs a second or two of imports (scikit-learn, the storage client), more than scoring a
million rows takes, so the processes are started once, in the background when the app is
built (`Execution.prepare` makes the engine, which calls `warm`), and reused by every job. A
pool that breaks (a process killed) during a job fails that job and is replaced at the next;
one found broken when a job starts is replaced for that job. A pool made before a fork
(gunicorn `--preload`) is the parent's: the child starts its own at its first job.

A model goes to the processes once: its artifact is written to a spool file named by its
sha256 (`backends.spool`, which keeps the last few versions), and each process loads it on
first use and keeps the last few it loaded. A shard's
files are written by the process that scores it, exactly as in process, so the output and the
resume rules are the same. A cancel is seen between shards: shards not started are dropped,
those running finish and keep their files.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import logging
import multiprocessing
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from services.batch_prediction import formats, numeric
from services.batch_prediction.backends.base import Plan, Progress, Shard
from services.batch_prediction.backends.memory import keep_freed_memory
from services.batch_prediction.backends.shards import score_shard
from services.batch_prediction.backends.spool import Spool
from services.batch_prediction.jobfiles import JobFiles
from shared.modelruntime import load
from shared.modelschema import InputSchema
from shared.perprocess import PerProcess
from shared.registry import ModelVersion
from shared.storage import Storage

log = logging.getLogger(__name__)

_MODELS_KEPT = 2  # models a scoring process keeps loaded (a job and the next one's)


class ScoringPool:
    def __init__(self, processes: int, *, allow_local: bool) -> None:
        self.processes = processes
        self._allow_local = allow_local
        # A pool made before a fork (gunicorn --preload) is the parent's: a child makes its own.
        self._pool: PerProcess[concurrent.futures.ProcessPoolExecutor] = PerProcess(self._new_pool)
        self._spool = Spool()
        atexit.register(self.close)

    def warm(self, *, background: bool = True) -> None:
        """Start every process and let it import what scoring needs, now rather than at
        the first job."""
        if background:
            threading.Thread(target=self._warm, name="scoring-pool-warm", daemon=True).start()
        else:
            self._warm()

    def _warm(self) -> None:
        try:
            pool = self._executor()
            # Each submit finds no idle process and spawns one, up to `processes`.
            for future in [pool.submit(_ready) for _ in range(self.processes)]:
                future.result()
        except Exception:
            log.exception("scoring processes failed to start")

    def _executor(self) -> concurrent.futures.ProcessPoolExecutor:
        return self._pool.get()

    def _new_pool(self) -> concurrent.futures.ProcessPoolExecutor:
        return concurrent.futures.ProcessPoolExecutor(
            self.processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init,
            initargs=(self._allow_local,),
        )

    def score(
        self,
        plan: Plan,
        pending: Sequence[Shard],
        version: ModelVersion,
        read_artifact: Callable[[], bytes],
        progress: Progress,
        wait_seconds: float,
        compiled: bytes | None = None,
    ) -> None:
        """Score `pending` on the processes; `progress.shard_done` is called in this thread
        as each shard ends, and `progress.check()` at least every `wait_seconds`, so a cancel
        stops the rest. `read_artifact` is called only for a version not spooled (each job
        read the whole artifact from the registry again). `compiled`: the
        version's compiled form (`ServedModel.compiled`), which a process loads without
        importing scikit-learn or unpickling the artifact (80 ms -> ~2 ms for a linear
        pipeline, in each process, at its first job)."""
        model = (version.to_json(), *self._spool.acquire(version, read_artifact, compiled))
        pool, futures = self._executor(), {}
        try:
            pool, futures = self._submitted(pool, plan, pending, model)
            waiting = set(futures)
            while waiting:
                finished, waiting = concurrent.futures.wait(
                    waiting, timeout=wait_seconds, return_when=concurrent.futures.FIRST_COMPLETED
                )
                for future in finished:
                    ok, failed = future.result()
                    progress.shard_done(futures[future].number, ok, failed)
                progress.check()
        except BrokenProcessPool:
            self._discard(pool)
            raise
        finally:
            for future in futures:
                future.cancel()
            concurrent.futures.wait(futures)  # the running shards end before the job does
            self._spool.release(version)

    def _submitted(
        self,
        pool: concurrent.futures.ProcessPoolExecutor,
        plan: Plan,
        pending: Sequence[Shard],
        model: tuple[dict[str, Any], str, str | None],
    ) -> tuple[concurrent.futures.ProcessPoolExecutor, dict[concurrent.futures.Future, Shard]]:
        """The job's shards submitted: on a new pool when this one broke before the job (a
        process that died while idle, an OOM kill), since nothing of the job ran on it.
        Until then a pool found broken at `submit` was never replaced: every later job
        failed."""
        futures: dict[concurrent.futures.Future, Shard] = {}
        try:
            for shard in pending:
                futures[pool.submit(_score, shard, plan, model)] = shard
        except BrokenProcessPool:
            if futures:  # it broke during this job: the job fails, as for a death mid-job
                raise
            self._discard(pool)
            pool = self._executor()
            futures = {pool.submit(_score, shard, plan, model): shard for shard in pending}
        return pool, futures

    def _discard(self, pool: concurrent.futures.ProcessPoolExecutor) -> None:
        self._pool.forget(pool)
        pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        pool = self._pool.forget()
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        self._spool.close()


# -- in each scoring process ----------------------------------------------------------------

_process: dict[str, Any] = {}


def _init(allow_local: bool) -> None:
    numeric.use_threads(False)  # the pool's processes already fill the cores
    keep_freed_memory()
    _process["files"] = JobFiles(
        Storage(os.environ.get("GOOGLE_CLOUD_PROJECT")), allow_local_files=allow_local
    )
    _process["models"] = OrderedDict()


def _ready() -> int:
    import sklearn.pipeline  # noqa: F401 - imported now, not at the first shard

    _rehearse()
    return os.getpid()


# Rows (the default chunk) and features of the made-up chunk: 3.4 MB of text, so that the
# memory a chunk of up to about that size needs is this process's (and kept, see
# `memory.keep_freed_memory`) before the first job. With 16 features (1 MB) the first job's first
# chunks still took 14-38 ms where later ones took 13; the first job ran at 0.80M rows/s,
# with 64 at 0.96M (bench/batch.py's input, 2.7 MB a chunk).
_REHEARSAL = (10_000, 64)


def _rehearse() -> formats.Batch:
    """A made-up chunk parsed and written as prediction lines, so that the first real chunk
    does not pay for pyarrow's import, Arrow's first read and this process's first
    chunk-sized buffers: in a pool's first job the first chunk took 120 ms where the next
    took 17."""
    rows, width = _REHEARSAL
    line = formats.WRAPPED + b", ".join([b"0.5"] * width) + formats.WRAPPED_END
    schema = InputSchema.numeric_features([f"f{i}" for i in range(width)])
    batch = formats.parse_jsonl(line * rows, 0, "rehearsal", schema, formats.InstanceConfig())
    formats.prediction_lines(batch, formats.prediction_bytes(batch.matrix[:, 0]))
    return batch


def _model(version: dict[str, Any], path: str, compiled: str | None) -> Any:
    models: OrderedDict[str, Any] = _process["models"]
    key = f"{path}:{compiled}:{version.get('name')}:{version.get('version')}"
    model = models.get(key)
    if model is None:
        model = load(
            ModelVersion.from_json(version),
            Path(path).read_bytes(),
            Path(compiled).read_bytes() if compiled else None,
        )
        models[key] = model
        while len(models) > _MODELS_KEPT:
            models.popitem(last=False)
    models.move_to_end(key)
    return model


def _score(
    shard: Shard, plan: Plan, model: tuple[dict[str, Any], str, str | None]
) -> tuple[int, int]:
    return score_shard(shard, plan, _model(*model), _process["files"])
