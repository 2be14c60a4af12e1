"""The batch prediction service's settings (beyond `shared.config.Settings`), read from the
environment with the `BATCH_PREDICTION_` prefix first: `BATCH_PREDICTION_JOBS_BUCKET` beats
`JOBS_BUCKET`.

| variable | default | meaning |
|---|---|---|
| `REGISTRY_BUCKET` | `mlapi-models` | bucket of the model registry (`shared.registry`) |
| `REGISTRY_PREFIX` | `models` | folder of the registry in that bucket |
| `JOBS_BUCKET` | `mlapi-batch-jobs` | where job records live (one JSON object per job) |
| `JOBS_PREFIX` | `batchPredictionJobs` | folder of the job records in that bucket |
| `MAX_CONCURRENT_JOBS` | 1 | REST-created jobs run at once in the background (others queue) |
| `CHUNK_SIZE` | 10000 | instances parsed and predicted together (one vectorised predict) |
| `SHARD_BYTES` | 33554432 | input bytes per output file (`predictions_NNNN.jsonl`), resumed whole |
| `READ_BLOCK_BYTES` | 4194304 | bytes fetched per ranged read of an input object |
| `UPLOAD_CHUNK_BYTES` | 8388608 | bytes buffered per resumable-upload request of an output file |
| `SCORING_PROCESSES` | 1 | processes scoring a job's shards at once (`local`; deployed: 2) |
| `HEARTBEAT_SECONDS` | 5 | how often a running job writes its progress to its record |
| `LEASE_SECONDS` | 60 | a running job whose record is older than this is taken to be orphaned |
| `RECOVER_SECONDS` | 30 | how often orphaned REST-created jobs are looked for (0: never) |
| `ENGINE` | `local` | default engine (`backends`): `local` (this machine) or `beam` (Apache Beam) |
| `BEAM_RUNNER` | `DirectRunner` | Beam runner (`DataflowRunner` in the cloud) |
| `BEAM_OPTIONS` | none | more Beam pipeline options, comma-separated `--flag=value` |
| `TRIGGER_MODEL` | none | model for jobs started by an input file landing in a bucket |
| `TRIGGER_OUTPUT` | none | output prefix for them (`gs://RESULTS_BUCKET/batch_prediction`) |
| `TRIGGER_PREFIX` | none | only objects under this prefix start a job |
| `TRIGGER_KEY_FIELD` | none | key field for those jobs |
| `ALLOW_LOCAL_FILES` | false | accept `file://` inputs and outputs (development, benchmarks) |
| `JOB_LOCATION` | `us-central1` | location in the names of jobs started by events |
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shared.config import Settings


class BatchPredictionSettings(Settings):
    registry_bucket: str = "mlapi-models"
    registry_prefix: str = "models"
    jobs_bucket: str = "mlapi-batch-jobs"
    jobs_prefix: str = "batchPredictionJobs"
    max_concurrent_jobs: int = Field(default=1, ge=1, le=64)
    chunk_size: int = Field(default=10_000, ge=1, le=1_000_000)
    shard_bytes: int = Field(default=32 * 2**20, ge=1024)
    read_block_bytes: int = Field(default=4 * 2**20, ge=1024)
    # google-cloud-storage needs resumable-upload chunks in multiples of 256 KiB.
    upload_chunk_bytes: int = Field(default=8 * 2**20, ge=256 * 1024, multiple_of=256 * 1024)
    # Not `WORKERS`: functions-framework's gunicorn reads that as its number of server
    # processes, and each would run its own jobs.
    scoring_processes: int = Field(default=1, ge=1, le=64)
    heartbeat_seconds: float = Field(default=5.0, gt=0)
    lease_seconds: float = Field(default=60.0, gt=0)
    recover_seconds: float = Field(default=30.0, ge=0)
    engine: Literal["local", "beam"] = "local"
    beam_runner: str = "DirectRunner"
    beam_options: list[str] = Field(default_factory=list)
    trigger_model: str | None = None
    trigger_output: str | None = None
    trigger_prefix: str | None = None
    trigger_key_field: str | None = None
    allow_local_files: bool = False
    job_location: str = "us-central1"

    def trigger_output_prefix(self) -> str | None:
        if self.trigger_output:
            return self.trigger_output
        if self.results_bucket:
            return f"gs://{self.results_bucket}/batch_prediction"
        return None
