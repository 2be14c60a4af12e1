"""What every engine does to one shard: read its lines in chunks, score each chunk, and write
the shard's files whole.

Read. A shard is read in ranged requests of `READ_BLOCK_BYTES` and cut into chunks of at
most `CHUNK_SIZE` whole lines, each line belonging to the shard it starts in
(`reading.iter_chunks`).
Score. A chunk is parsed (`formats`) and predicted in one vectorised call (`predict`); a chunk
the model refuses is predicted row by row, so one bad row becomes an errors-file line.
Write. The shard's output is streamed into uploads that become objects only when the shard
ends (`ShardFiles`): the errors file first, then the predictions file, which marks the shard
done. Memory holds one chunk and the upload buffers, whatever the input's size.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import closing
from typing import Any

import numpy as np

from services.batch_prediction import csvlines, formats
from services.batch_prediction.backends import background
from services.batch_prediction.backends.base import CONTENT_TYPE, JOB_METADATA, Input, Plan, Shard
from services.batch_prediction.backends.reading import iter_chunks
from services.batch_prediction.jobfiles import JobFiles
from shared.errors import Code
from shared.modelschema import InputSchema
from shared.storage import ObjectWriter

log = logging.getLogger(__name__)


def parse_chunk(
    blob: bytes,
    offset: int,
    item: Input,
    plan: Plan,
    schema: InputSchema,
    newlines: np.ndarray | None = None,
) -> formats.Batch:
    if item.format == "csv":
        return csvlines.parse_csv(
            blob, offset, item.uri, item.header, schema, plan.instance_config, newlines
        )
    return formats.parse_jsonl(blob, offset, item.uri, schema, plan.instance_config, newlines)


def score_chunk(
    blob: bytes,
    offset: int,
    item: Input,
    plan: Plan,
    model: Any,
    newlines: np.ndarray | None = None,
) -> tuple[bytes, bytes, int, int]:
    """One chunk -> (prediction lines, error lines, rows predicted, rows failed)."""
    batch = parse_chunk(blob, offset, item, plan, model.schema, newlines)
    predictions = predict(model, batch)
    lines = formats.prediction_lines(batch, predictions)
    return lines, b"".join(batch.errors), batch.rows, len(batch.errors)


def predict(model: Any, batch: formats.Batch) -> list[bytes]:
    """One vectorised predict; if it fails, row by row, so one row the model cannot take
    becomes an errors-file line and the others are still predicted."""
    if not batch.rows:
        return []
    try:
        values = _predict_values(model, batch.matrix)
        if len(values) != batch.rows:
            raise ValueError(f"the model answered {len(values)} predictions for {batch.rows}")
        return formats.prediction_bytes(values)
    except Exception as exc:
        log.warning("chunk predict failed, predicting row by row: %s", type(exc).__name__)
    kept: list[int] = []
    out: list[bytes] = []
    for row in range(batch.rows):
        try:
            out.extend(formats.prediction_bytes(model.predict(batch.matrix[row : row + 1])))
            kept.append(row)
        except Exception as exc:
            message = f"The model could not predict this instance: {type(exc).__name__}: {exc}"
            batch.errors.append(
                formats.error_line(batch.echo(row), Code.INVALID_ARGUMENT, message, batch.label)
            )
    echoes = [batch.echo(row) for row in kept]
    batch.matrix, batch.echoes, batch.template = batch.matrix[kept], echoes, None
    return out


def _predict_values(model: Any, matrix: np.ndarray) -> Any:
    """The predictions of a `ServedModel`, as its `predict` gives them; where that is just the
    raw array's values (regression; scikit-learn labels), the array itself, which
    `formats.prediction_bytes` serialises in one call."""
    kind, framework = getattr(model, "kind", None), getattr(model, "framework", None)
    if kind == "regression" or (kind == "label" and framework == "sklearn"):
        return np.asarray(model.predict_raw(matrix))
    return model.predict(matrix)


class ShardFiles:
    """The two files of one shard, being written: both appear when `commit()` ends (errors
    first, predictions last: the predictions file marks the shard done), neither if
    `abort()` is called instead. The errors file is opened only if an error line comes."""

    def __init__(
        self, files: JobFiles, plan: Plan, number: int, metadata: dict[str, str] | None = None
    ) -> None:
        self._files = files
        self._plan = plan
        self._number = number
        self._metadata = {JOB_METADATA: plan.job, **(metadata or {})}
        self._predictions = self._open(plan.predictions_uri(number))
        self._errors: ObjectWriter | None = None

    def _open(self, uri: str) -> ObjectWriter:
        writer = self._files.open_writer(
            uri, self._metadata, chunk_bytes=self._plan.upload_chunk, content_type=CONTENT_TYPE
        )
        return background.WriteBehind(writer)

    def __enter__(self) -> ShardFiles:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        """Committed when the block ends, aborted if anything escapes it (a cancel too)."""
        if kind is None:
            self.commit()
        else:
            self.abort()

    def write(self, lines: bytes, error_lines: bytes = b"") -> None:
        if lines:
            self._predictions.write(lines)
        if error_lines:
            if self._errors is None:
                self._errors = self._open(self._plan.errors_uri(self._number))
            self._errors.write(error_lines)

    def commit(self) -> None:
        try:
            if self._errors is not None:
                self._errors.commit()
        except BaseException:
            # A BlobWriter left open is finalised when collected: a partial predictions
            # file would mark the shard done.
            self._predictions.abort()
            raise
        self._predictions.commit()

    def abort(self) -> None:
        self._predictions.abort()
        if self._errors is not None:
            self._errors.abort()


def score_chunks(
    shard: Shard, plan: Plan, model: Any, files: JobFiles
) -> Iterator[tuple[bytes, bytes, int, int, int]]:
    """A shard's chunks scored in order: (prediction lines, error lines, rows predicted,
    rows failed, input bytes)."""
    item = plan.inputs[shard.input]
    with (
        files.open_reader(item.info, plan.read_block) as reader,
        # Closed before the reader, with any read still pending on it.
        closing(
            iter_chunks(
                reader, shard.start, shard.end, item.data_start, plan.chunk_size, plan.read_block
            )
        ) as chunks,
    ):
        for blob, offset, newlines in chunks:
            yield (*score_chunk(blob, offset, item, plan, model, newlines), len(blob))


def score_shard(
    shard: Shard,
    plan: Plan,
    model: Any,
    files: JobFiles,
    on_chunk: Callable[[int, int, int], None] = lambda ok, failed, size: None,
) -> tuple[int, int]:
    """Score one shard into its files, streamed; (rows predicted, rows failed). `on_chunk`
    gets each chunk's counts and bytes, and may raise (`Interrupted`); then nothing of the
    shard is written."""
    ok = failed = 0
    # `closing`: an `on_chunk` that raises closes the shard's reader now, not when collected.
    with (
        ShardFiles(files, plan, shard.number) as out,
        closing(score_chunks(shard, plan, model, files)) as chunks,
    ):
        for lines, error_lines, chunk_ok, chunk_failed, size in chunks:
            out.write(lines, error_lines)
            ok, failed = ok + chunk_ok, failed + chunk_failed
            on_chunk(chunk_ok, chunk_failed, size)
    return ok, failed
