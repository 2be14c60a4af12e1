"""Running one job that this worker has claimed, to its end: pin the model version, plan the
shards (`planning`), score what is not done yet with the job's engine (`backends`), and end
the job (`completion`).

What becomes of a job that fails:
- a problem retrying cannot fix (model or input missing, bad request, every row failed, an
  output directory holding another job's files, a bug): JOB_STATE_FAILED with `error`;
- a dependency down (storage, Pub/Sub): `ApiError` UNAVAILABLE is raised, the record stays
  RUNNING, and the job is resumed by a redelivery or by recovery (see `jobs`);
- a cancel: JOB_STATE_CANCELLED at the next chunk, files of finished shards kept;
- another worker holds the job now: `LeaseLost` is raised; this worker writes nothing more.
"""

from __future__ import annotations

import logging
import threading

import orjson

from services.batch_prediction import planning
from services.batch_prediction.backends import Engine, create_engine
from services.batch_prediction.backends.base import Plan
from services.batch_prediction.completion import Completion, cancelled
from services.batch_prediction.jobfiles import JobFiles
from services.batch_prediction.jobrecord import CANCELLED, FAILED, SUCCEEDED, JobRecord
from services.batch_prediction.lease import Cancelled, Lease, LeaseLost
from services.batch_prediction.modelcache import ModelCache, parse_ref
from services.batch_prediction.settings import BatchPredictionSettings
from shared.errors import ApiError, Code
from shared.registry import ModelVersion

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5


class Execution:
    def __init__(
        self,
        settings: BatchPredictionSettings,
        files: JobFiles,
        models: ModelCache,
        completion: Completion,
    ) -> None:
        self._settings = settings
        self._files = files
        self._models = models
        self._completion = completion
        self._engines: dict[str, Engine] = {}
        # Protects `_engines` (jobs run on several threads).
        self._lock = threading.Lock()

    def prepare(self) -> None:
        """The default engine made now if it has processes to start (`SCORING_PROCESSES` >
        1): they start when the app is built, in the background, instead of with the first
        job, which would otherwise wait for their imports (bench/batch.py: a job on processes
        being started ran at 0.49M rows/s, on started ones 0.85M). `shared.serving` builds
        the app when its worker starts; functions-framework at the first request."""
        if self._settings.engine == "local" and self._settings.scoring_processes > 1:
            self._engine("local")

    def run(self, record: JobRecord, lease: Lease) -> JobRecord:
        """The terminal record of a job claimed by this worker (state RUNNING)."""
        job_id = record.job_id
        end = self._completion.end
        try:
            if record.private.attempts > MAX_ATTEMPTS:
                error = ApiError(
                    Code.ABORTED,
                    f"The job was started {MAX_ATTEMPTS} times without finishing (did its "
                    "process die?); it is not retried again.",
                )
                return end(job_id, FAILED, error, lease=lease)
            assert record.spec is not None
            version = self._pin_model(record, lease)
            self._models.get(version)  # a model that cannot load fails before anything is written
            record = planning.planned(record, self._files, self._settings, lease.update)
            plan = planning.plan_of(record, self._settings)
            shards = plan.shards()
            counted = record.private.shards
            done = planning.done_shards(self._files, plan, counted)
            lease.track({n: counted[n] for n in done}, {s.number: s.end - s.start for s in shards})
            pending = [shard for shard in shards if shard.number not in done]
            engine = record.spec.engine or self._settings.engine
            log.info(
                "job running",
                extra={
                    "json_fields": {
                        "job": record.name,
                        "shards": len(shards),
                        "pending": len(pending),
                        "engine": engine,
                    }
                },
            )
            self._engine(engine).score(plan, pending, version, lease)
            return self._finish(job_id, plan, lease)
        except Cancelled:
            return end(job_id, CANCELLED, cancelled(), lease=lease)
        except LeaseLost:
            raise
        except ApiError as exc:
            if exc.retryable:
                raise
            return end(job_id, FAILED, exc, lease=lease)
        except Exception as exc:
            log.exception("job failed unexpectedly", extra={"json_fields": {"job": record.name}})
            error = ApiError(Code.INTERNAL, f"Internal error: {type(exc).__name__}: {exc}")
            return end(job_id, FAILED, error, lease=lease)

    def _pin_model(self, record: JobRecord, lease: Lease) -> ModelVersion:
        assert record.spec is not None
        ref = parse_ref(record.spec.model)
        if record.model_version_id:
            return self._models.pinned(ref.name, record.model_version_id)
        version = self._models.resolve(ref)

        def pin(current: JobRecord) -> JobRecord:
            current.model_version_id = version.version
            return current

        lease.update(pin)
        return version

    def _engine(self, name: str) -> Engine:
        with self._lock:
            engine = self._engines.get(name)
            if engine is None:
                engine = create_engine(name, self._settings, self._models, self._files)
                self._engines[name] = engine
            return engine

    def _finish(self, job_id: str, plan: Plan, lease: Lease) -> JobRecord:
        totals = ok, failed = lease.totals
        shards = lease.shards
        predictions = [plan.predictions_uri(n) for n in sorted(shards)]
        errors = [plan.errors_uri(n) for n, c in sorted(shards.items()) if c[1]]
        files = (predictions, errors)
        state, error = (FAILED, self._failure(ok, failed, errors)) if not ok else (SUCCEEDED, None)
        return self._completion.end(job_id, state, error, files=files, totals=totals, lease=lease)

    def _failure(self, ok: int, failed: int, errors: list[str]) -> ApiError:
        """Why a job that predicted nothing failed."""
        if ok + failed == 0:
            return ApiError(
                Code.INVALID_ARGUMENT,
                "The input holds no instances (empty files, or blank lines only).",
            )
        where = errors[0] if errors else "the errors files"
        first = self._first_error(errors[0]) if errors else ""
        return ApiError(
            Code.INVALID_ARGUMENT,
            f"All {failed} instances failed; see {where}."
            + (f" First error: {first}" if first else ""),
        )

    def _first_error(self, uri: str) -> str:
        try:
            info = self._files.expand(uri)[0]
            with self._files.open_reader(info, 65536) as reader:
                line = reader.read(65536).split(b"\n", 1)[0]
            return str(orjson.loads(line)["error"]["message"])
        except Exception:
            return ""

    def close(self) -> None:
        with self._lock:
            engines = list(self._engines.values())
        for engine in engines:
            engine.close()
