"""The Apache Beam engine: the same job, the same files, as a Beam pipeline (an optional extra:
`pip install apache-beam`; imported only when a job asks for `engine=beam`).

    Create(pending shards)
      | Reshuffle         the shards spread over the workers (Dataflow), one element each
      | ScoreShard        ParDo: a shard's chunks read, parsed, predicted (one vectorised
                          predict a chunk) and written to predictions_NNNN.jsonl /
                          errors_NNNN.jsonl, as the local engine does (`shards.score_chunk`);
                          the model loaded from the registry once per worker (`Shared`)

The runner is `BEAM_RUNNER` (DirectRunner here, run as Beam's in-process FnApiRunner, which is
what the DirectRunner runs batch pipelines on once it has tried Prism, a binary it would
download; DataflowRunner in the cloud) with
`BEAM_OPTIONS` (e.g. `--project=P,--region=R,--temp_location=gs://B/tmp,
--setup_file=./setup.py` for Dataflow, which must be able to import this package; not
exercised here). Elements are whole shards, not rows or chunks: Beam's per-element
overhead would otherwise dominate (bench/batch.py: RunInference one row an element is 13x
slower than the service), and chunks as elements (RunInference, then a GroupByKey to put a
shard's chunks back together in order) moved every output line through the runner's data
plane: 2.6x the local engine's time and a peak RSS that grew with the input. A shard's
output is kept in memory until the shard ends (one shard, `SHARD_BYTES` of input, at a time
per worker thread). The counts of each shard travel in its file's metadata (`mlapi-counts`),
so the job reads them back from storage whatever the runner.

Not implemented: progress while the pipeline runs (the record is updated when it ends) and
cancelling a running pipeline (a cancel takes effect when it ends). The job's heartbeat goes
on meanwhile (`lease`), so no other worker takes the job for orphaned.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.utils.shared import Shared

from services.batch_prediction.backends.base import Plan, Progress, Shard
from services.batch_prediction.backends.memory import keep_freed_memory
from services.batch_prediction.backends.shards import ShardFiles, score_chunks
from services.batch_prediction.jobfiles import JobFiles
from services.batch_prediction.modelcache import ModelCache
from services.batch_prediction.settings import BatchPredictionSettings
from shared.errors import ApiError, Code
from shared.modelruntime import load
from shared.registry import ModelVersion, Registry
from shared.storage import Storage

COUNTS_METADATA = "mlapi-counts"

_files: JobFiles | None = None


def _worker_files(allow_local: bool) -> JobFiles:
    """One `JobFiles` per worker process (a pipeline's functions are pickled to workers)."""
    global _files
    if _files is None:
        storage = Storage(os.environ.get("GOOGLE_CLOUD_PROJECT"))
        _files = JobFiles(storage, allow_local_files=allow_local)
    return _files


class BeamEngine:
    def __init__(
        self, settings: BatchPredictionSettings, models: ModelCache, files: JobFiles
    ) -> None:
        self._settings = settings

    def score(
        self, plan: Plan, pending: Sequence[Shard], version: ModelVersion, progress: Progress
    ) -> None:
        progress.check()
        for number, (ok, failed) in sorted(run(plan, pending, version, self._settings).items()):
            progress.shard_done(number, ok, failed)

    def close(self) -> None:
        pass


class RegistryModel:
    """Loads one registered version on a worker (pickled to the workers with the pipeline)."""

    def __init__(self, bucket: str, prefix: str, version: dict[str, Any]) -> None:
        self._bucket = bucket
        self._prefix = prefix
        self._version = version

    def load(self) -> Any:
        registry = Registry(self._bucket, self._prefix, storage=Storage())
        version = ModelVersion.from_json(self._version)
        return load(version, registry.read_artifact(version))


class ScoreShard(beam.DoFn):
    """One shard -> its two files, chunk by chunk as the local engine scores them
    (`shards.score_chunk`: one vectorised predict a chunk). The model is loaded once per
    worker process and shared by its threads (`Shared`)."""

    def __init__(self, source: RegistryModel, plan: Plan, allow_local: bool) -> None:
        self._source = source
        self._plan = plan
        self._allow_local = allow_local
        self._shared = Shared()
        self._model: Any = None

    def setup(self) -> None:
        keep_freed_memory()  # a worker process scores chunk after chunk, as a pool's does
        # `Shared` keeps only a weak reference: the DoFn holds the model itself.
        self._model = self._shared.acquire(self._source.load)

    def process(self, shard: Shard) -> Iterator[tuple[int, tuple[int, int]]]:
        yield shard.number, write_shard(shard, self._plan, self._model, self._allow_local)


def write_shard(shard: Shard, plan: Plan, model: Any, allow_local: bool) -> tuple[int, int]:
    """Score a shard and write its files with its counts in their metadata, which the job
    reads back whatever the runner. The counts go in when an upload starts, so the lines are
    kept until the shard ends (one shard, `SHARD_BYTES` of input, at a time per worker
    thread) instead of streamed as `shards.score_shard` does."""
    files = _worker_files(allow_local)
    scored = list(score_chunks(shard, plan, model, files))
    ok = sum(chunk[2] for chunk in scored)
    failed = sum(chunk[3] for chunk in scored)
    with ShardFiles(files, plan, shard.number, {COUNTS_METADATA: f"{ok},{failed}"}) as out:
        for lines, error_lines, *_ in scored:
            out.write(lines, error_lines)
    return ok, failed


def run(
    plan: Plan,
    pending: Sequence[Shard],
    version: ModelVersion,
    settings: BatchPredictionSettings,
) -> dict[int, tuple[int, int]]:
    """Run the pending shards as one pipeline; their (rows predicted, rows failed)."""
    if not pending:
        return {}
    allow_local = settings.allow_local_files
    source = RegistryModel(settings.registry_bucket, settings.registry_prefix, version.to_json())
    options = PipelineOptions([f"--runner={settings.beam_runner}", *settings.beam_options])
    runner = None
    if settings.beam_runner in ("DirectRunner", "FnApiRunner"):
        # Beam's DirectRunner first tries Prism, which downloads a binary; for batch
        # pipelines it then runs the FnApiRunner, which we ask for directly.
        from apache_beam.runners.portability.fn_api_runner.fn_runner import FnApiRunner

        runner = FnApiRunner()
    with beam.Pipeline(runner=runner, options=options) as pipeline:
        _ = (
            pipeline
            | "Shards" >> beam.Create(list(pending))
            | "Spread" >> beam.Reshuffle()  # on Dataflow: the shards to workers, one by one
            | "ScoreShard" >> beam.ParDo(ScoreShard(source, plan, allow_local))
        )
    return _counts(plan, pending, allow_local)


def _counts(plan: Plan, pending: Sequence[Shard], allow_local: bool) -> dict[int, tuple[int, int]]:
    files = _worker_files(allow_local)
    listed = files.list_metadata(plan.output_dir)
    counts: dict[int, tuple[int, int]] = {}
    for shard in pending:
        name = plan.predictions_uri(shard.number).rsplit("/", 1)[-1]
        raw = listed.get(name, {}).get(COUNTS_METADATA)
        if raw is None and name in listed and not files.keeps_metadata(plan.output_dir):
            raw = _count_local_lines(plan, shard.number)
        if raw is None:
            raise ApiError(Code.INTERNAL, f"The pipeline ended without writing {name}.")
        ok, failed = (int(x) for x in raw.split(","))
        counts[shard.number] = (ok, failed)
    return counts


def _count_local_lines(plan: Plan, number: int) -> str:
    """The counts of a shard written to local files, which keep no metadata: its lines."""
    counts = []
    for uri in (plan.predictions_uri(number), plan.errors_uri(number)):
        path = uri[len("file://") :]
        with open(path, "rb") if os.path.exists(path) else open(os.devnull, "rb") as file:
            counts.append(
                sum(block.count(b"\n") for block in iter(lambda: file.read(1 << 20), b""))
            )
    return f"{counts[0]},{counts[1]}"
