"""The Apache Beam engine: the same job, the same files, as a Beam pipeline (an optional extra:
`pip install apache-beam`; imported only when a job asks for `engine=beam`).

    Create(pending shards)
      | ReadChunks        FlatMap: each shard's chunks, parsed (`formats`), keyed (shard, chunk)
      | RunInference      KeyedModelHandler(RegistryModelHandler): one vectorised predict per
                          chunk, with the model loaded from the registry on each worker
      | Format            (shard, (chunk, prediction lines, error lines, counts))
      | GroupByKey        a shard's chunks together
      | WriteShard        predictions_NNNN.jsonl / errors_NNNN.jsonl, as the local engine does

The runner is `BEAM_RUNNER` (DirectRunner here, run as Beam's in-process FnApiRunner, which is
what the DirectRunner runs batch pipelines on once it has tried Prism, a binary it would
download; DataflowRunner in the cloud) with
`BEAM_OPTIONS` (e.g. `--project=P,--region=R,--temp_location=gs://B/tmp,
--setup_file=./setup.py` for Dataflow, which must be able to import this package; not
exercised here). Elements are whole chunks, not rows: Beam's per-element overhead would
otherwise dominate (see bench/batch.py). A shard's output is gathered in memory by the
GroupByKey before it is written (one shard, `SHARD_BYTES` of input, at a time per worker on
the DirectRunner). The counts of each shard travel in its file's metadata (`mlapi-counts`),
so the job reads them back from storage whatever the runner.

Not implemented: progress while the pipeline runs (the record is updated when it ends) and
cancelling a running pipeline (a cancel takes effect when it ends). The job's heartbeat goes
on meanwhile (`lease`), so no other worker takes the job for orphaned.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import apache_beam as beam
from apache_beam.ml.inference.base import (
    KeyedModelHandler,
    ModelHandler,
    PredictionResult,
    RunInference,
)
from apache_beam.options.pipeline_options import PipelineOptions

from services.batch_prediction import formats
from services.batch_prediction.backends.base import Plan, Progress, Shard
from services.batch_prediction.backends.shards import ShardFiles, iter_chunks, parse_chunk, predict
from services.batch_prediction.jobfiles import JobFiles
from services.batch_prediction.modelcache import ModelCache
from services.batch_prediction.settings import BatchPredictionSettings
from shared.errors import ApiError, Code
from shared.modelruntime import load
from shared.modelschema import InputSchema
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


class RegistryModelHandler(ModelHandler[formats.Batch, PredictionResult, Any]):
    """Loads one registered version on the worker; predicts one parsed chunk per call."""

    def __init__(self, bucket: str, prefix: str, version: dict[str, Any]) -> None:
        self._bucket = bucket
        self._prefix = prefix
        self._version = version

    def load_model(self) -> Any:
        registry = Registry(self._bucket, self._prefix, storage=Storage())
        version = ModelVersion.from_json(self._version)
        return load(version, registry.read_artifact(version))

    def run_inference(
        self,
        batch: Sequence[formats.Batch],
        model: Any,
        inference_args: dict[str, Any] | None = None,
    ) -> Iterable[PredictionResult]:
        return [PredictionResult(chunk, predict(model, chunk)) for chunk in batch]

    def batch_elements_kwargs(self) -> dict[str, int]:
        return {"min_batch_size": 1, "max_batch_size": 1}  # an element is a whole chunk


def read_chunks(
    shard: Shard, plan: Plan, schema_json: dict[str, Any], allow_local: bool
) -> Iterator[tuple[tuple[int, int], formats.Batch]]:
    schema = InputSchema.from_json(schema_json)
    item = plan.inputs[shard.input]
    files = _worker_files(allow_local)
    with files.open_reader(item.info, plan.read_block) as reader:
        chunks = iter_chunks(
            reader, shard.start, shard.end, item.data_start, plan.chunk_size, plan.read_block
        )
        for index, (blob, offset) in enumerate(chunks):
            yield (shard.number, index), parse_chunk(blob, offset, item, plan, schema)


def format_chunk(
    keyed: tuple[tuple[int, int], PredictionResult],
) -> tuple[int, tuple[int, bytes, bytes, int, int]]:
    (number, index), result = keyed
    batch: formats.Batch = result.example
    lines = formats.prediction_lines(batch, result.inference)
    return number, (index, lines, b"".join(batch.errors), batch.rows, len(batch.errors))


def write_shard(
    grouped: tuple[int, Iterable[tuple[int, bytes, bytes, int, int]]],
    plan: Plan,
    allow_local: bool,
) -> tuple[int, tuple[int, int]]:
    number, chunks = grouped
    ordered = sorted(chunks, key=lambda c: c[0])
    ok = sum(c[3] for c in ordered)
    failed = sum(c[4] for c in ordered)
    out = ShardFiles(_worker_files(allow_local), plan, number, {COUNTS_METADATA: f"{ok},{failed}"})
    try:
        for _, lines, error_lines, _, _ in ordered:
            out.write(lines, error_lines)
        out.commit()
    except BaseException:
        out.abort()
        raise
    return number, (ok, failed)


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
    handler = RegistryModelHandler(
        settings.registry_bucket, settings.registry_prefix, version.to_json()
    )
    schema = version.schema.to_json() if version.schema else _schema_of(handler)
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
            | "ReadChunks" >> beam.FlatMap(read_chunks, plan, schema, allow_local)
            | "RunInference" >> RunInference(KeyedModelHandler(handler))
            | "Format" >> beam.Map(format_chunk)
            | "GroupByShard" >> beam.GroupByKey()
            | "WriteShard" >> beam.Map(write_shard, plan, allow_local)
        )
    return _counts(plan, pending, allow_local)


def _schema_of(handler: RegistryModelHandler) -> dict[str, Any]:
    return handler.load_model().schema.to_json()


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
