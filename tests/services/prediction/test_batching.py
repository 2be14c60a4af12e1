"""Micro-batching: the pure merge/split/plan, then the batcher under concurrency (each caller
gets its own rows back), then the same over HTTP."""

from __future__ import annotations

import json
import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from services.prediction import batching
from services.prediction.adaptive import Batcher, InFlight
from tests.services.prediction.conftest import endpoint_name


@pytest.mark.parametrize(
    ("sizes", "max_size", "count"),
    [
        ([], 8, 0),
        ([1], 8, 1),
        ([1, 1, 1], 8, 3),
        ([4, 4, 1], 8, 2),
        ([3, 5, 1], 8, 2),
        ([20, 1], 8, 1),  # a large request runs alone
        ([1, 20], 8, 1),
        ([8], 8, 1),
    ],
)
def test_plan(sizes, max_size, count):
    assert batching.plan(sizes, max_size) == count


def test_merge_and_split_round_trip():
    parts = [np.full((n, 2), i, dtype=float) for i, n in enumerate((1, 3, 2))]
    merged, slices = batching.merge(parts)
    assert merged.shape == (6, 2)
    assert [(s.start, s.stop) for s in slices] == [(0, 1), (1, 4), (4, 6)]
    back = batching.split(merged[:, 0] * 10, slices)
    assert [b.tolist() for b in back] == [[0.0], [10.0] * 3, [20.0] * 2]


def test_split_refuses_a_row_count_mismatch():
    _, slices = batching.merge([np.zeros((2, 1)), np.zeros((1, 1))])
    with pytest.raises(ValueError, match="returned 2 rows for 3"):
        batching.split(np.zeros(2), slices)


def test_batcher_gives_each_caller_its_own_rows_under_concurrency():
    calls: list[int] = []
    lock = threading.Lock()

    def predict(matrix: np.ndarray) -> np.ndarray:
        with lock:
            calls.append(matrix.shape[0])
        return matrix[:, 0] * 2 + matrix[:, 1]

    inflight = InFlight()
    batcher = Batcher(predict, max_size=16, max_wait=0.005, inflight=inflight)

    def one(i: int) -> tuple[int, list[float]]:
        rows = np.array([[i, j] for j in range(1 + i % 3)], dtype=float)
        with inflight:
            return i, batcher.predict(rows).tolist()

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(one, range(400)))
    for i, output in results:
        assert output == [2.0 * i + j for j in range(1 + i % 3)]
    assert sum(calls) == sum(1 + i % 3 for i in range(400))
    assert max(calls) > 1, "no two requests were ever batched"
    assert max(calls) <= 16


def test_batcher_passes_a_failure_to_every_caller_of_the_batch_and_recovers():
    fail = threading.Event()
    fail.set()

    def predict(matrix: np.ndarray) -> np.ndarray:
        if fail.is_set():
            raise RuntimeError("model exploded")
        return matrix[:, 0]

    batcher = Batcher(predict, max_size=8, max_wait=0.0)
    with pytest.raises(RuntimeError, match="exploded"):
        batcher.predict(np.ones((1, 1)))
    fail.clear()
    assert batcher.predict(np.full((1, 1), 3.0)).tolist() == [3.0]


def test_a_caller_alone_does_not_wait():
    batcher = Batcher(lambda m: m[:, 0], max_size=8, max_wait=5.0, inflight=InFlight())
    # With nobody else in flight the leader runs at once, whatever max_wait says.
    assert batcher.predict(np.ones((1, 1))).tolist() == [1.0]


def test_a_request_past_its_batch_is_not_waited_for():
    """A request still in its bracket but done with the batcher (formatting its answer) is
    not on its way: a new leader runs at once instead of waiting out `max_wait` for it."""
    inflight = InFlight()
    batcher = Batcher(lambda m: m[:, 0], max_size=8, max_wait=30.0, inflight=inflight)
    formatting, release = threading.Event(), threading.Event()

    def slow_to_answer() -> None:
        with inflight:
            batcher.predict(np.ones((1, 1)))
            formatting.set()
            release.wait(10)

    other = threading.Thread(target=slow_to_answer)
    other.start()
    try:
        assert formatting.wait(10)
        assert inflight.count == 0
        answered: list[list[float]] = []
        leader = threading.Thread(
            target=lambda: answered.append(batcher.predict(np.full((1, 1), 2.0)).tolist())
        )
        leader.start()
        leader.join(10)  # with the request counted, it would wait the full 30 s
        assert answered == [[2.0]]
    finally:
        release.set()
        other.join()


def test_nested_brackets_are_counted_off_once():
    inflight = InFlight()
    with inflight, inflight:
        assert inflight.count == 2
        inflight.arrived()
        assert inflight.count == 0
    assert inflight.count == 0
    with inflight, inflight:
        pass
    assert inflight.count == 0


def test_concurrent_http_callers_each_get_their_own_prediction(prediction_service, trained):
    model = trained["diabetes-lgb"]
    rows = model.X[:64]
    expected = model.model.predict(rows)
    url = f"{prediction_service.url}/v1/{endpoint_name('diabetes-lgb')}:predict"

    def one(i: int) -> tuple[int, float]:
        body = json.dumps({"instances": [rows[i % 64].tolist()]}).encode()
        request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request) as response:
            return i, json.load(response)["predictions"][0]

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(one, range(320)))
    for i, prediction in results:
        assert prediction == pytest.approx(expected[i % 64], rel=1e-12)
    with urllib.request.urlopen(f"{prediction_service.url}/metrics") as response:
        text = response.read().decode()
    batched = [
        line
        for line in text.splitlines()
        if line.startswith('mlapi_prediction_batch_size_bucket{le="1"}')
    ]
    total = [
        line for line in text.splitlines() if line.startswith("mlapi_prediction_batch_size_count")
    ]
    assert int(batched[0].split()[-1]) < int(total[0].split()[-1]), "nothing was batched"
