"""Batch prediction benchmark: rows per second and peak RSS scoring JSONL
(`{"instance": [30 floats]}` per line, ~266 bytes a line) into Vertex-layout JSONL.

    .venv/bin/python bench/batch.py                  # 1,000,000 rows (about 266 MB)
    .venv/bin/python bench/batch.py --rows 200000 --methods service,orjson

Methods, each in its own process (so its peak RSS is its own):
- `limit`: `predict` on the in-memory float64 array, 10k-row slices (no parsing, no output);
- `naive`: per line json.loads -> predict one row -> json.dumps; measured on the first
  `--naive-rows` lines only (it is three orders of magnitude slower);
- `stdlib`, `orjson`: 10k-line chunks, parse each line, one predict per chunk, serialise each
  output line `{"instance", "prediction"}`;
- `service`: the batch service's own job path, `backends.shards.score_shard` over every
  shard of a `Plan` (as the `local` engine runs it; no job-record writes), reading and
  writing local files (`file://`), the model loaded by the service's loader;
  `service-100k`: the same on the first 100,000 rows, to show that peak RSS does not grow
  with the input; `service-csv`: the same rows as a CSV file with a header;
- `service-2w`: the same with `SCORING_PROCESSES=2` (`backends.pool.ScoringPool`: shards on
  two spawned scoring processes, started before the clock as the service starts them when
  its app is built; the first job those processes score, which loads the model in each, from its
  compiled form when it has one, as `LocalEngine` sends it);
  `service-2w-next`: the job after that on the same processes (each has the model loaded
  and has scored a job: a service's steady state); `service-2w-cold`: the same with the
  processes' start-up (spawn, imports, model load) timed; peak RSS shown for the parent and
  for the largest worker;
- `service-gcs`: the same path through the storage emulator (gcp-storage-emulator, in
  memory) on `--gcs-rows` rows: ranged reads and resumable uploads over HTTP;
- `beam`: Beam's RunInference with `SklearnModelHandlerNumpy` (or, where its module cannot
  import for want of pandas, an equivalent handler), one element per row (how the Beam docs
  use it), on the DirectRunner (its in-process FnApiRunner), on `--beam-rows` rows;
- `beam-engine`: the service's Beam engine (one element per shard), same runner.

The model: StandardScaler + LogisticRegression on 30 features (labels out). The input is
generated once into a temporary directory. Every method writes its output to that directory
and it is deleted before the next one. Compare methods within one run: other programs share
these 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FEATURES = 30
CHUNK = 10_000
METHODS = (
    "limit",
    "naive",
    "stdlib",
    "orjson",
    "service",
    "service-2w",
    "service-2w-next",
    "service-2w-cold",
    "service-100k",
    "service-csv",
    "service-gcs",
    "beam",
    "beam-engine",
)


# -- setup (parent process) ------------------------------------------------------------------


def make_model(rng: np.random.Generator) -> Any:
    """The bench's model, fitted on 2,000 rows drawn from `rng`."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    train = rng.normal(size=(2000, FEATURES))
    return make_pipeline(StandardScaler(), LogisticRegression()).fit(
        train, (train[:, :3].sum(axis=1) > 0).astype(int)
    )


def input_lines(rng: np.random.Generator, rows: int) -> list[str]:
    """`rows` input lines as the bench writes them: `{"instance": [30 floats, 4 decimals]}`."""
    block = np.round(rng.normal(size=(rows, FEATURES)), 4)
    return [json.dumps({"instance": row}) + "\n" for row in block.tolist()]


def generate(directory: Path, rows: int) -> None:
    import joblib

    rng = np.random.default_rng(0)
    joblib.dump(make_model(rng), directory / "model.joblib")
    with open(directory / "input.jsonl", "w") as out:
        for start in range(0, rows, 100_000):
            out.writelines(input_lines(rng, min(100_000, rows - start)))
    with (
        open(directory / "input.jsonl", "rb") as source,
        open(directory / "input-100k.jsonl", "wb") as out,
    ):
        for _, line in zip(range(100_000), source, strict=False):
            out.write(line)
    # The same rows as CSV, as pandas' `to_csv` writes them: a header, then `v,v,...`.
    with (
        open(directory / "input.jsonl", "rb") as source,
        open(directory / "input.csv", "wb") as out,
    ):
        out.write(",".join(f"f{i}" for i in range(FEATURES)).encode() + b"\n")
        for line in source:
            out.write(line[len('{"instance": [') : -3].replace(b", ", b",") + b"\n")


# -- the methods (child processes) -----------------------------------------------------------


def _model(directory: Path) -> Any:
    import joblib

    return joblib.load(directory / "model.joblib")


def _lines(path: Path, limit: int | None = None):
    with open(path, "rb") as source:
        for index, line in enumerate(source):
            if limit is not None and index >= limit:
                return
            yield line


def run_limit(directory: Path, rows: int, _args: Any) -> int:
    import orjson

    model = _model(directory)
    matrix = np.array(
        [orjson.loads(line)["instance"] for line in _lines(directory / "input.jsonl")]
    )
    started = time.perf_counter()
    for start in range(0, len(matrix), CHUNK):
        model.predict(matrix[start : start + CHUNK])
    return len(matrix), time.perf_counter() - started


def run_naive(directory: Path, rows: int, args: Any) -> tuple[int, float]:
    model = _model(directory)
    count = 0
    started = time.perf_counter()
    with open(directory / "out.jsonl", "w") as out:
        for line in _lines(directory / "input.jsonl", args.naive_rows):
            instance = json.loads(line)["instance"]
            prediction = model.predict(np.array([instance]))[0].item()
            out.write(json.dumps({"instance": instance, "prediction": prediction}) + "\n")
            count += 1
    return count, time.perf_counter() - started


def _chunked(directory: Path, loads: Any, dumps: Any) -> tuple[int, float]:
    model = _model(directory)
    count = 0
    started = time.perf_counter()
    with open(directory / "out.jsonl", "wb") as out:
        chunk: list[bytes] = []
        for line in _lines(directory / "input.jsonl"):
            chunk.append(line)
            if len(chunk) == CHUNK:
                count += _score(model, chunk, loads, dumps, out)
                chunk = []
        if chunk:
            count += _score(model, chunk, loads, dumps, out)
    return count, time.perf_counter() - started


def _score(model: Any, chunk: list[bytes], loads: Any, dumps: Any, out: Any) -> int:
    instances = [loads(line)["instance"] for line in chunk]
    predictions = model.predict(np.array(instances)).tolist()
    out.write(
        b"".join(
            dumps({"instance": i, "prediction": p}) + b"\n"
            for i, p in zip(instances, predictions, strict=True)
        )
    )
    return len(chunk)


def run_stdlib(directory: Path, rows: int, _args: Any) -> tuple[int, float]:
    return _chunked(directory, json.loads, lambda value: json.dumps(value).encode())


def run_orjson(directory: Path, rows: int, _args: Any) -> tuple[int, float]:
    import orjson

    return _chunked(directory, orjson.loads, orjson.dumps)


def _service_plan(
    directory: Path, input_uri: str, output: str, objects: Any, instances_format: str = "jsonl"
) -> Any:
    from services.batch_prediction.backends.base import Plan
    from services.batch_prediction.planning import expand_inputs
    from services.batch_prediction.settings import BatchPredictionSettings

    defaults = BatchPredictionSettings()
    inputs, _ = expand_inputs(objects, (input_uri,), instances_format)
    return Plan(
        job="projects/bench/locations/local/batchPredictionJobs/1",
        output_dir=output,
        inputs=tuple(inputs),
        shard_bytes=defaults.shard_bytes,
        chunk_size=CHUNK,
        read_block=defaults.read_block_bytes,
        upload_chunk=defaults.upload_chunk_bytes,
    )


def _served(directory: Path) -> Any:
    from shared.modelruntime import load
    from shared.modelschema import InputSchema
    from shared.registry import ModelVersion

    version = ModelVersion(
        name="bench",
        version="1",
        framework="sklearn",
        artifact="model.joblib",
        output={"kind": "label"},
        schema=InputSchema.numeric_features([f"f{i}" for i in range(FEATURES)]),
    )
    return load(version, (directory / "model.joblib").read_bytes())


def _run_service(
    directory: Path, input_uri: str, output: str, objects: Any, instances_format: str = "jsonl"
) -> tuple[int, float]:
    from services.batch_prediction.backends.memory import keep_freed_memory
    from services.batch_prediction.backends.shards import score_shard

    keep_freed_memory()  # as `LocalEngine` does in the service
    served = _served(directory)
    _service_plan(directory, input_uri, output, objects, instances_format)  # imports
    started = time.perf_counter()
    plan = _service_plan(directory, input_uri, output, objects, instances_format)
    rows = 0
    for shard in plan.shards():
        ok, failed = score_shard(shard, plan, served, objects)
        rows += ok + failed
    return rows, time.perf_counter() - started


def run_service(
    directory: Path, rows: int, _args: Any, name: str = "input.jsonl"
) -> tuple[int, float]:
    objects = _local_files()
    return _run_service(
        directory, f"file://{directory / name}", f"file://{directory / 'out'}", objects
    )


def run_service_csv(directory: Path, rows: int, _args: Any) -> tuple[int, float]:
    objects = _local_files()
    return _run_service(
        directory,
        f"file://{directory / 'input.csv'}",
        f"file://{directory / 'out'}",
        objects,
        "csv",
    )


def _local_files() -> Any:
    from services.batch_prediction.jobfiles import JobFiles
    from shared.storage import Storage

    return JobFiles(Storage(), allow_local_files=True)


class _Counted:
    """The `Progress` of a bench run: counts the rows of finished shards."""

    def __init__(self) -> None:
        self.rows = 0

    def chunk(self, ok: int, failed: int, size: int) -> None:
        pass

    def shard_done(self, number: int, ok: int, failed: int) -> None:
        self.rows += ok + failed

    def check(self) -> None:
        pass


def _run_service_2w(directory: Path, warm: bool, jobs: int = 1) -> tuple[int, float]:
    """The last of `jobs` jobs scored on one pool of two processes: (rows, seconds)."""
    from services.batch_prediction.backends.pool import ScoringPool

    objects = _local_files()
    served = _served(directory)
    pool = ScoringPool(2, allow_local=True)
    if warm:  # as in the service, where the processes start with it
        pool.warm(background=False)
    source, output = f"file://{directory / 'input.jsonl'}", f"file://{directory / 'out'}"
    _service_plan(directory, source, output, objects)  # imports: a service has them
    for _ in range(jobs):
        shutil.rmtree(directory / "out", ignore_errors=True)
        counted = _Counted()
        started = time.perf_counter()
        plan = _service_plan(directory, source, output, objects)
        pool.score(
            plan,
            plan.shards(),
            served.version,
            (directory / "model.joblib").read_bytes,
            counted,
            wait_seconds=1.0,
            compiled=served.compiled,  # as `LocalEngine` sends it
        )
        seconds = time.perf_counter() - started
    pool.close()
    return counted.rows, seconds


def run_service_2w(directory: Path, rows: int, _args: Any) -> tuple[int, float]:
    return _run_service_2w(directory, warm=True)


def run_service_2w_next(directory: Path, rows: int, _args: Any) -> tuple[int, float]:
    return _run_service_2w(directory, warm=True, jobs=2)


def run_service_2w_cold(directory: Path, rows: int, _args: Any) -> tuple[int, float]:
    return _run_service_2w(directory, warm=False)


def run_service_100k(directory: Path, rows: int, args: Any) -> tuple[int, float]:
    return run_service(directory, rows, args, "input-100k.jsonl")


def run_service_gcs(directory: Path, rows: int, args: Any) -> tuple[int, float]:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    from services.batch_prediction.jobfiles import JobFiles
    from shared.storage import Storage

    client = storage.Client(project="bench", credentials=AnonymousCredentials())
    bucket = client.create_bucket(f"bench-{os.getpid()}")
    with open(directory / "input.jsonl", "rb") as source:
        data = b"".join(line for _, line in zip(range(args.gcs_rows), source, strict=False))
    bucket.blob("input.jsonl").upload_from_string(data)
    del data
    return _run_service(
        directory,
        f"gs://{bucket.name}/input.jsonl",
        f"gs://{bucket.name}/out",
        JobFiles(Storage("bench")),
    )


def _direct_runner() -> Any:
    from apache_beam.runners.portability.fn_api_runner.fn_runner import FnApiRunner

    return FnApiRunner()


def run_beam(directory: Path, rows: int, args: Any) -> tuple[int, float]:
    import apache_beam as beam
    import orjson
    from apache_beam.ml.inference.base import RunInference

    def to_line(result: Any) -> str:
        return orjson.dumps(
            {"instance": result.example.tolist(), "prediction": result.inference.item()}
        ).decode()

    started = time.perf_counter()
    with beam.Pipeline(runner=_direct_runner()) as pipeline:
        _ = (
            pipeline
            | beam.io.ReadFromText(str(directory / "input.jsonl"))
            | beam.Filter(_first_rows(args.beam_rows))
            | beam.Map(lambda line: np.array(orjson.loads(line)["instance"]))
            | RunInference(_numpy_handler(directory / "model.joblib"))
            | beam.Map(to_line)
            | beam.io.WriteToText(str(directory / "out" / "predictions"), file_name_suffix=".jsonl")
        )
    return min(args.beam_rows, rows), time.perf_counter() - started


def _numpy_handler(path: Path) -> Any:
    """`SklearnModelHandlerNumpy` where it imports (its module imports pandas, which this
    environment lacks); else the same thing in a few lines: joblib.load, then one predict on
    `np.stack` of each batch of rows, one PredictionResult per row."""
    try:
        from apache_beam.ml.inference.sklearn_inference import (
            ModelFileType,
            SklearnModelHandlerNumpy,
        )

        return SklearnModelHandlerNumpy(model_uri=str(path), model_file_type=ModelFileType.JOBLIB)
    except ImportError:
        pass
    import joblib
    from apache_beam.ml.inference.base import ModelHandler, PredictionResult

    class NumpyHandler(ModelHandler):
        def load_model(self) -> Any:
            return joblib.load(path)

        def run_inference(self, batch: Any, model: Any, inference_args: Any = None) -> Any:
            predictions = model.predict(np.stack(batch, axis=0))
            return [PredictionResult(x, y) for x, y in zip(batch, predictions, strict=True)]

    return NumpyHandler()


class _first_rows:
    """A filter keeping the first `limit` lines of the file (ReadFromText reads it in order on
    one worker here); a class so that Beam can pickle it."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.seen = 0

    def __call__(self, _line: str) -> bool:
        self.seen += 1
        return self.seen <= self.limit


def run_beam_engine(directory: Path, rows: int, _args: Any) -> tuple[int, float]:
    from unittest import mock

    from services.batch_prediction.backends import beam as beam_engine
    from services.batch_prediction.settings import BatchPredictionSettings

    objects = _local_files()
    settings = BatchPredictionSettings(allow_local_files=True)
    served = _served(directory)
    source, output = f"file://{directory / 'input.jsonl'}", f"file://{directory / 'out'}"
    _service_plan(directory, source, output, objects)  # imports: a service has them
    started = time.perf_counter()
    plan = _service_plan(directory, source, output, objects)
    # The workers load the model from the registry; here it comes from the file.
    with mock.patch.object(beam_engine.RegistryModel, "load", return_value=served):
        counts = beam_engine.run(plan, plan.shards(), served.version, settings)
    return sum(ok + failed for ok, failed in counts.values()), time.perf_counter() - started


# -- driver ----------------------------------------------------------------------------------


def child(args: argparse.Namespace) -> None:
    directory = Path(args.dir)
    (directory / "out").mkdir(exist_ok=True)
    runner = globals()[f"run_{args.child.replace('-', '_')}"]
    rows, seconds = runner(directory, args.rows, args)
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the parent.
    status = Path("/proc/self/status").read_text()
    peak = int(status.split("VmHWM:")[1].split()[0]) / 1024
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "rows": rows,
                "seconds": seconds,
                "peak_rss_mb": peak,
                "worker_peak_rss_mb": workers if "2w" in args.child else 0,
            }
        )
    )


def _start_storage_emulator() -> tuple[subprocess.Popen, str]:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gcp-storage-emulator"),
            "start",
            "--port",
            str(port),
            "--host",
            "127.0.0.1",
            "--in-memory",
            "-q",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return process, f"http://127.0.0.1:{port}"
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("the storage emulator did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--naive-rows", type=int, default=20_000)
    parser.add_argument("--beam-rows", type=int, default=200_000)
    parser.add_argument("--gcs-rows", type=int, default=100_000)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    directory = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    emulator = None
    try:
        started = time.perf_counter()
        generate(directory, args.rows)
        size = (directory / "input.jsonl").stat().st_size
        print(
            f"input: {args.rows:,} rows, {size / 1e6:.0f} MB, made in "
            f"{time.perf_counter() - started:.0f} s ({directory})",
            file=sys.stderr,
        )
        env = dict(os.environ)
        results = []
        for method in args.methods.split(","):
            if method == "service-gcs" and emulator is None:
                emulator, env["STORAGE_EMULATOR_HOST"] = _start_storage_emulator()
            shutil.rmtree(directory / "out", ignore_errors=True)
            command = [
                sys.executable,
                __file__,
                "--child",
                method,
                "--dir",
                str(directory),
                "--rows",
                str(args.rows),
                "--naive-rows",
                str(args.naive_rows),
                "--beam-rows",
                str(args.beam_rows),
                "--gcs-rows",
                str(args.gcs_rows),
            ]
            done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                print(f"{method} failed:\n{done.stderr[-3000:]}", file=sys.stderr)
                continue
            result = json.loads(done.stdout.strip().splitlines()[-1])
            result["method"] = method
            results.append(result)
            print(f"{method}: {result['rows'] / result['seconds']:,.0f} rows/s", file=sys.stderr)
        _table(results)
    finally:
        if emulator is not None:
            emulator.terminate()
            emulator.wait()
        shutil.rmtree(directory, ignore_errors=True)


def _table(results: list[dict[str, Any]]) -> None:
    by = {r["method"]: r["rows"] / r["seconds"] for r in results}
    print(
        "| method | rows | seconds | rows/s | vs orjson chunks | peak RSS (MiB) "
        "| worker peak RSS (MiB) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        rate = r["rows"] / r["seconds"]
        ratio = f"{rate / by['orjson']:.2f}x" if "orjson" in by else "-"
        worker = f"{r['worker_peak_rss_mb']:.0f}" if r.get("worker_peak_rss_mb") else ""
        print(
            f"| {r['method']} | {r['rows']:,} | {r['seconds']:.2f} | {rate:,.0f} | {ratio} | "
            f"{r['peak_rss_mb']:.0f} | {worker} |"
        )
    for ours in ("service", "service-2w"):
        if ours in by and "beam" in by:
            print(f"\n{ours} / beam (per-row RunInference): {by[ours] / by['beam']:.1f}x")
    if "service" in by and "beam-engine" in by:
        print(f"\nservice / beam-engine: {by['service'] / by['beam-engine']:.2f}x")


if __name__ == "__main__":
    main()
