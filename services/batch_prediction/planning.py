"""A job's plan: its inputs expanded once, pinned, and cut into shards; and which shards an
earlier run of the job has finished already.

The inputs (objects, prefixes, globs, file lists) are expanded when the job first starts, into
objects pinned to their generation, so a job reads exactly what it planned with even if the
inputs change; the expansion is kept in the record, so a resumed job cuts the same shards.
A CSV input's header is read then too: every shard of it needs the column names.

Resume. A shard is skipped when its predictions file exists for this job and the record holds
its counts; anything else is rewritten whole, with the same bytes, so a restarted job ends
with each row exactly once. A file in the output directory that this job did not write fails
the job (FAILED_PRECONDITION) before anything is written.
"""

from __future__ import annotations

from collections.abc import Callable

from services.batch_prediction import csvlines
from services.batch_prediction.backends.base import JOB_METADATA, Input, Plan
from services.batch_prediction.jobfiles import JobFiles
from services.batch_prediction.jobrecord import MAX_PARTIAL_FAILURES, JobRecord, Status
from services.batch_prediction.jobspec import format_for
from services.batch_prediction.settings import BatchPredictionSettings
from shared.errors import ApiError, Code, invalid_argument
from shared.storage import ObjectInfo

MAX_FILE_LIST_BYTES = 10 * 2**20
MAX_HEADER_BYTES = 1 << 20


def planned(
    record: JobRecord,
    files: JobFiles,
    settings: BatchPredictionSettings,
    update: Callable[[Callable[[JobRecord], JobRecord]], JobRecord],
) -> JobRecord:
    """The record with its plan: made and stored through `update` on the job's first start,
    kept as it is on a resumed one."""
    if record.private.inputs is not None:
        return record
    assert record.spec is not None
    spec = record.spec
    for uri in spec.inputs:
        files.check_uri(uri, "An input URI")
    files.check_uri(record.output_directory, "The output location")
    inputs, partial = expand_inputs(files, spec.inputs, spec.instances_format)

    def store_plan(current: JobRecord) -> JobRecord:
        current.private.inputs = tuple(inputs)
        current.private.shard_bytes = settings.shard_bytes
        if partial:
            current.partial_failures = [
                Status(int(Code.NOT_FOUND), message) for message in partial[:MAX_PARTIAL_FAILURES]
            ]
        return current

    return update(store_plan)


def expand_inputs(
    files: JobFiles, uris: tuple[str, ...], instances_format: str
) -> tuple[list[Input], list[str]]:
    """The job's input objects in order, and what could not be read in a file list
    (Vertex's partial failures). An input URI that matches nothing is NOT_FOUND."""
    found: list[Input] = []
    partial: list[str] = []
    for uri in uris:
        matches = files.expand(uri)
        if not matches:
            raise ApiError(Code.NOT_FOUND, f"Input {uri} matches no object.")
        for obj in matches:
            if instances_format != "file-list":
                found.append(_input(files, obj, instances_format))
                continue
            listing = files.read_whole(obj, MAX_FILE_LIST_BYTES).decode("utf-8", "replace")
            for line in listing.splitlines():
                listed = line.strip()
                if not listed or listed.startswith("#"):
                    continue
                try:
                    files.check_uri(listed, "A file-list entry")
                    listed_objects = files.expand(listed)
                    if not listed_objects:
                        raise ApiError(Code.NOT_FOUND, f"{listed} was not found.")
                except ApiError as exc:
                    if exc.retryable:
                        raise
                    partial.append(f"{obj.uri}: {exc.message}")
                    continue
                found.extend(_input(files, o, format_for(o.uri)) for o in listed_objects)
    return found, partial


def _input(files: JobFiles, obj: ObjectInfo, instances_format: str) -> Input:
    if instances_format != "csv" or obj.size == 0:
        return Input(obj.uri, obj.size, obj.generation, instances_format)
    with files.open_reader(obj, MAX_HEADER_BYTES) as reader:
        head = reader.read(MAX_HEADER_BYTES)
    end = head.find(b"\n")
    if end < 0 and len(head) >= MAX_HEADER_BYTES:
        raise invalid_argument(f"The CSV header of {obj.uri} is longer than {MAX_HEADER_BYTES}.")
    line = head if end < 0 else head[:end]
    header = tuple(csvlines.parse_header(line))
    return Input(obj.uri, obj.size, obj.generation, "csv", len(line) + (end >= 0), header)


def plan_of(record: JobRecord, settings: BatchPredictionSettings) -> Plan:
    """The plan a planned record holds (`record.private.inputs` set)."""
    assert record.spec is not None
    assert record.private.inputs is not None
    spec = record.spec
    return Plan(
        job=record.name,
        output_dir=record.output_directory,
        inputs=record.private.inputs,
        shard_bytes=record.private.shard_bytes,
        chunk_size=spec.chunk_size or settings.chunk_size,
        instance_config=spec.instance_config,
        read_block=settings.read_block_bytes,
        upload_chunk=settings.upload_chunk_bytes,
    )


def done_shards(files: JobFiles, plan: Plan, counted: dict[int, tuple[int, int]]) -> set[int]:
    """Shards finished by an earlier run of this job; FAILED_PRECONDITION when the directory
    holds files of another job or of nobody we know."""
    listed = files.list_metadata(plan.output_dir)
    checked = files.keeps_metadata(plan.output_dir)  # local files carry no metadata
    strangers = sorted(
        name
        for name, metadata in listed.items()
        if checked and metadata.get(JOB_METADATA) != plan.job
    )
    if strangers:
        raise ApiError(
            Code.FAILED_PRECONDITION,
            f"The output directory {plan.output_dir} already holds files this job did not "
            f"write ({', '.join(strangers[:3])}{', ...' if len(strangers) > 3 else ''}); "
            "choose another output location.",
        )
    return {n for n in counted if f"predictions_{n:04d}.jsonl" in listed}
