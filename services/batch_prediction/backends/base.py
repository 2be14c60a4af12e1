"""The engine interface: what scores a job's shards, and the plan it is handed.

A job's `Plan` is its inputs pinned to their generations, cut into byte ranges (`Shard`s) of
`SHARD_BYTES`. Shard N (numbered across all inputs, from 1) owns the lines that *start* in its
range and writes `predictions_{N:04d}.jsonl` (always, even empty: it marks the shard done) and
`errors_{N:04d}.jsonl` (only when some of its rows failed), as Vertex numbers them; so an
errors file shares its number with the predictions file of the same input range. Every file
carries the job's name in its custom metadata (`mlapi-job`), which is how a resumed job tells
its own files from anybody else's.

An engine scores the pending shards of a plan into those files and tells the job's `Progress`
as each shard ends (and, where it can, after each chunk). `Progress` raises `Interrupted` when
the job must stop (a cancel, or another worker holding the job now); the engine lets it
through, leaving no file of an unfinished shard behind. Engines are built from the settings,
the model cache and the job's files (`backends.create_engine`) and kept for the process.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import NamedTuple, Protocol

from services.batch_prediction.formats import InstanceConfig
from shared.registry import ModelVersion
from shared.storage import ObjectInfo

JOB_METADATA = "mlapi-job"  # custom metadata of every output file: the job's name
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


class Interrupted(Exception):
    """Raised by `Progress` to stop an engine between chunks."""


class Progress(Protocol):
    def chunk(self, ok: int, failed: int, size: int) -> None:
        """A chunk of `size` input bytes scored: `ok` rows predicted, `failed` not."""

    def shard_done(self, number: int, ok: int, failed: int) -> None:
        """Shard `number`'s files are written."""

    def check(self) -> None:
        """Raise `Interrupted` when the job must stop."""


class Engine(Protocol):
    def score(
        self, plan: Plan, pending: Sequence[Shard], version: ModelVersion, progress: Progress
    ) -> None:
        """Write the files of every shard in `pending`, telling `progress` as each ends."""

    def close(self) -> None: ...
