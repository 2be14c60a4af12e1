"""What one chunk of a batch job costs, stage by stage, as a pool's scoring process runs it
(Arrow on one thread): the budget behind `bench/batch.py`'s rows per second. At 1M rows/s
with two processes on two cores, a 10,000-row chunk has 20 ms on each core for all of it.

    .venv/bin/python bench/batch_stages.py                 # 10,000 rows, 40 runs a stage
    .venv/bin/python bench/batch_stages.py --rows 50000 --runs 20

Each stage runs `--runs` times in this process; the table gives its min and median in ms.
The stages are the fast path's own functions (`formats.parse_jsonl` and, inside it,
`numeric.parse_lines`' steps), on the input `bench/batch.py` generates.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.batch import FEATURES, input_lines, make_model  # noqa: E402


def timed(runs: int, stage: Callable[[], Any]) -> tuple[float, float, Any]:
    """(min ms, median ms, the last result) of `runs` calls after one warm-up call."""
    result = stage()
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        result = stage()
        seconds.append(time.perf_counter() - started)
    return min(seconds) * 1e3, statistics.median(seconds) * 1e3, result


def main(argv: list[str] | None = None) -> None:
    from services.batch_prediction import formats, numeric
    from services.batch_prediction.backends.memory import keep_freed_memory
    from services.batch_prediction.formats import InstanceConfig
    from shared.modelschema import InputSchema

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000, help="rows in the chunk")
    parser.add_argument("--runs", type=int, default=40, help="timed runs a stage")
    args = parser.parse_args(argv)

    numeric.use_threads(False)  # as in a pool's scoring process
    keep_freed_memory()  # likewise
    rng = np.random.default_rng(0)
    model = make_model(rng)
    blob = "".join(input_lines(rng, args.rows)).encode()
    schema = InputSchema.numeric_features([f"f{i}" for i in range(FEATURES)])
    head, tail = formats.WRAPPED, formats.WRAPPED_END[:-1]
    removable, _ = numeric.wrapper_bytes(head, tail)
    data = np.frombuffer(blob, dtype=np.uint8)
    text = blob.translate(numeric._FLAGGED, removable)
    reader = numeric._arrow_reader(FEATURES, False)

    rows: list[tuple[str, float, float]] = []

    def stage(name: str, call: Callable[[], Any]) -> Any:
        low, middle, result = timed(args.runs, call)
        rows.append((name, low, middle))
        return result

    newlines = stage(
        "newlines (the reader's, handed to the parser)", lambda: np.flatnonzero(data == 10)
    )
    stage(
        "wrappers out, other bytes marked (`translate`)",
        lambda: blob.translate(numeric._FLAGGED, removable),
    )
    stage("proof: JSON number syntax", lambda: numeric._json_numbers(text))
    table = stage("Arrow's CSV reader", lambda: reader(text))
    stage("columns to matrix", lambda: np.stack([c.to_numpy() for c in table.columns]).T)
    config = InstanceConfig()
    parse = lambda: formats.parse_jsonl(blob, 0, "gs://b/o", schema, config, newlines)  # noqa: E731
    batch = stage(
        "`parse_jsonl`: all of the above but the newlines, and the lines' template", parse
    )
    stage("of which the output lines' template (`replace`)", lambda: blob.replace(b"}", b"%b}"))
    labels = stage("predict (labels)", lambda: np.asarray(model.predict(batch.matrix)))
    encoded = stage("prediction bytes", lambda: formats.prediction_bytes(labels))
    stage("prediction lines", lambda: formats.prediction_lines(batch, encoded))

    print(f"{args.rows:,} rows, {len(blob) / 1e6:.1f} MB, {FEATURES} features; {args.runs} runs")
    print("| stage | min ms | median ms |\n|---|---:|---:|")
    for name, low, middle in rows:
        print(f"| {name} | {low:.2f} | {middle:.2f} |")


if __name__ == "__main__":
    main()
