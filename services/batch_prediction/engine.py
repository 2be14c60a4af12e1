"""The local engine: a job's inputs, streamed in chunks, scored, and written in Vertex's layout.

Plan. The inputs (objects, prefixes, globs, file lists) are expanded once, when the job
starts, into objects pinned to their generation; each object is cut into byte ranges of
`SHARD_BYTES`. Shard N (numbered across all inputs, from 1) owns the lines that *start* in
its range, and writes `predictions_{N:04d}.jsonl` (always, even empty: it marks the shard
done) and `errors_{N:04d}.jsonl` (only when some of its rows failed), as Vertex numbers them;
so an errors file shares its number with the predictions file of the same input range.

Stream. A shard is read in ranged requests of `READ_BLOCK_BYTES`, parsed and predicted
`CHUNK_SIZE` lines at a time (one vectorised predict per chunk), and its output is streamed
into resumable uploads that become objects only when the shard ends: the errors file first,
then the predictions file. Memory holds one chunk and the upload buffers, whatever the input's
size.

Resume. Output files carry the job's name in their metadata (`mlapi-job`). A shard is skipped
when its predictions file exists for this job and the job record holds its counts; anything
else is rewritten whole, with the same bytes, so a restarted job ends with each row exactly
once. A file in the directory that this job did not write fails the job (FAILED_PRECONDITION)
before anything is written.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator
from typing import IO, Any, NamedTuple

import numpy as np

from services.batch_prediction import formats
from services.batch_prediction.formats import InstanceConfig
from services.batch_prediction.jobs import format_for
from services.batch_prediction.objects import ObjectInfo, Objects
from shared.errors import ApiError, Code, invalid_argument

log = logging.getLogger(__name__)

JOB_METADATA = "mlapi-job"
MAX_FILE_LIST_BYTES = 10 * 2**20
MAX_HEADER_BYTES = 1 << 20
CONTENT_TYPE = "application/jsonl"


class Input(NamedTuple):
    uri: str
    size: int
    generation: int
    format: str  # "jsonl" or "csv"
    data_start: int = 0  # bytes of the CSV header line
    header: tuple[str, ...] = ()

    @property
    def info(self) -> ObjectInfo:
        return ObjectInfo(self.uri, self.size, self.generation)


class Shard(NamedTuple):
    number: int
    input: int  # index into Plan.inputs
    start: int
    end: int


@dataclasses.dataclass(frozen=True)
class Plan:
    """Everything a worker needs to score shards (picklable: Beam and process pools)."""

    job: str  # the job's resource name
    output_dir: str
    inputs: tuple[Input, ...]
    shard_bytes: int
    chunk_size: int
    instance_config: InstanceConfig = dataclasses.field(default_factory=InstanceConfig)
    read_block: int = 4 * 2**20
    upload_chunk: int = 8 * 2**20

    def shards(self) -> list[Shard]:
        out: list[Shard] = []
        for index, item in enumerate(self.inputs):
            start = item.data_start
            while start < item.size:
                end = min(start + self.shard_bytes, item.size)
                out.append(Shard(len(out) + 1, index, start, end))
                start = end
        return out

    def predictions_uri(self, number: int) -> str:
        return f"{self.output_dir}/predictions_{number:04d}.jsonl"

    def errors_uri(self, number: int) -> str:
        return f"{self.output_dir}/errors_{number:04d}.jsonl"


class Cancelled(Exception):
    """Raised from a progress callback to stop a job between chunks."""


# -- planning --------------------------------------------------------------------------------


def expand_inputs(
    objects: Objects, uris: tuple[str, ...], instances_format: str
) -> tuple[list[Input], list[str]]:
    """The job's input objects in order, and what could not be read in a file list
    (Vertex's partial failures). An input URI that matches nothing is NOT_FOUND."""
    found: list[Input] = []
    partial: list[str] = []
    for uri in uris:
        matches = objects.expand(uri)
        if not matches:
            raise ApiError(Code.NOT_FOUND, f"Input {uri} matches no object.")
        for obj in matches:
            if instances_format != "file-list":
                found.append(_input(objects, obj, instances_format))
                continue
            listing = objects.read(obj.uri, MAX_FILE_LIST_BYTES).decode("utf-8", "replace")
            for line in listing.splitlines():
                listed = line.strip()
                if not listed or listed.startswith("#"):
                    continue
                try:
                    objects.check_uri(listed, "A file-list entry")
                    listed_objects = objects.expand(listed)
                    if not listed_objects:
                        raise ApiError(Code.NOT_FOUND, f"{listed} was not found.")
                except ApiError as exc:
                    if exc.retryable:
                        raise
                    partial.append(f"{obj.uri}: {exc.message}")
                    continue
                found.extend(_input(objects, o, format_for(o.uri)) for o in listed_objects)
    return found, partial


def _input(objects: Objects, obj: ObjectInfo, instances_format: str) -> Input:
    if instances_format != "csv" or obj.size == 0:
        return Input(obj.uri, obj.size, obj.generation, instances_format)
    with objects.open_reader(obj, MAX_HEADER_BYTES) as reader:
        head = reader.read(MAX_HEADER_BYTES)
    end = head.find(b"\n")
    if end < 0 and len(head) >= MAX_HEADER_BYTES:
        raise invalid_argument(f"The CSV header of {obj.uri} is longer than {MAX_HEADER_BYTES}.")
    line = head if end < 0 else head[:end]
    header = tuple(formats.parse_header(line))
    return Input(obj.uri, obj.size, obj.generation, "csv", len(line) + (end >= 0), header)


def done_shards(objects: Objects, plan: Plan, counted: dict[int, Any]) -> set[int]:
    """Shards finished by an earlier run of this job; FAILED_PRECONDITION when the directory
    holds files of another job or of nobody we know."""
    files = objects.list_dir(plan.output_dir)
    local = plan.output_dir.startswith("file://")  # local files carry no metadata: unchecked
    strangers = sorted(
        name
        for name, metadata in files.items()
        if not local and metadata.get(JOB_METADATA) != plan.job
    )
    if strangers:
        raise ApiError(
            Code.FAILED_PRECONDITION,
            f"The output directory {plan.output_dir} already holds files this job did not "
            f"write ({', '.join(strangers[:3])}{', ...' if len(strangers) > 3 else ''}); "
            "choose another output location.",
        )
    return {n for n in counted if f"predictions_{n:04d}.jsonl" in files}


# -- reading ---------------------------------------------------------------------------------


def iter_chunks(
    reader: IO[bytes], start: int, end: int, data_start: int, chunk_rows: int, block: int
) -> Iterator[tuple[bytes, int]]:
    """Whole lines that start in [start, end), at most `chunk_rows` at a time, each chunk
    with the offset of its first byte. A last line without a newline gets one."""
    skip = start > data_start
    position = start - 1 if skip else start
    reader.seek(position)
    buffer = b""
    eof = False

    def fill() -> None:
        nonlocal buffer, eof
        data = reader.read(block)
        if not data:
            eof = True
        buffer += data

    if skip:  # the line that starts before `start` belongs to the shard before
        while True:
            cut = buffer.find(b"\n")
            if cut >= 0:
                buffer, position = buffer[cut + 1 :], position + cut + 1
                break
            if eof:
                return
            position += len(buffer)
            buffer = b""
            fill()
    while position < end:
        newlines = _newlines(buffer)
        limit = end - position  # lines must start before this offset in `buffer`
        while (
            not eof
            and len(newlines) < chunk_rows
            and (not len(newlines) or newlines[-1] + 1 < limit)
        ):
            fill()
            newlines = _newlines(buffer)
        if not len(newlines):
            if buffer:
                yield buffer + b"\n", position
            return
        take = min(chunk_rows, len(newlines))
        owned = 1 + int(np.count_nonzero(newlines[: take - 1] + 1 < limit))
        cut = int(newlines[owned - 1]) + 1
        yield buffer[:cut], position
        buffer, position = buffer[cut:], position + cut


def _newlines(buffer: bytes) -> np.ndarray:
    return np.flatnonzero(np.frombuffer(buffer, dtype=np.uint8) == 10)


# -- scoring ---------------------------------------------------------------------------------


def score_chunk(
    blob: bytes, offset: int, item: Input, plan: Plan, model: Any
) -> tuple[bytes, bytes, int, int]:
    """One chunk -> (prediction lines, error lines, rows predicted, rows failed)."""
    schema = model.schema
    if item.format == "csv":
        batch = formats.parse_csv(blob, offset, item.uri, item.header, schema, plan.instance_config)
    else:
        batch = formats.parse_jsonl(blob, offset, item.uri, schema, plan.instance_config)
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
    batch.matrix, batch.echoes, batch.pieces = batch.matrix[kept], echoes, None
    return out


def _predict_values(model: Any, matrix: np.ndarray) -> Any:
    """The predictions of a `ServedModel`, as its `predict` gives them; where that is just the
    raw array's values (regression; scikit-learn labels), the array itself, which
    `formats.prediction_bytes` serialises in one call."""
    kind, framework = getattr(model, "kind", None), getattr(model, "framework", None)
    if kind == "regression" or (kind == "label" and framework == "sklearn"):
        return np.asarray(model.predict_raw(matrix))
    return model.predict(matrix)


def score_shard(
    shard: Shard,
    plan: Plan,
    model: Any,
    objects: Objects,
    on_chunk: Callable[[int, int, int], None] = lambda ok, failed, size: None,
) -> tuple[int, int]:
    """Score one shard into its files; (rows predicted, rows failed). `on_chunk` gets each
    chunk's counts and bytes, and may raise `Cancelled`; then nothing of the shard is written."""
    item = plan.inputs[shard.input]
    metadata = {JOB_METADATA: plan.job}
    writer = objects.open_writer(
        plan.predictions_uri(shard.number),
        metadata,
        chunk_bytes=plan.upload_chunk,
        content_type=CONTENT_TYPE,
    )
    errors_writer = None
    ok = failed = 0
    try:
        with objects.open_reader(item.info, plan.read_block) as reader:
            for blob, offset in iter_chunks(
                reader, shard.start, shard.end, item.data_start, plan.chunk_size, plan.read_block
            ):
                lines, error_lines, chunk_ok, chunk_failed = score_chunk(
                    blob, offset, item, plan, model
                )
                if lines:
                    writer.write(lines)
                if error_lines:
                    if errors_writer is None:
                        errors_writer = objects.open_writer(
                            plan.errors_uri(shard.number),
                            metadata,
                            chunk_bytes=plan.upload_chunk,
                            content_type=CONTENT_TYPE,
                        )
                    errors_writer.write(error_lines)
                ok, failed = ok + chunk_ok, failed + chunk_failed
                on_chunk(chunk_ok, chunk_failed, len(blob))
        if errors_writer is not None:
            errors_writer.commit()
        writer.commit()
    except BaseException:
        writer.abort()
        if errors_writer is not None:
            errors_writer.abort()
        raise
    return ok, failed
