"""The numeric fast path (`numeric.parse_lines`): the same doubles as a JSON parser for every
way JSON writes a number, and no chunk taken whose text JSON would refuse."""

from __future__ import annotations

import concurrent.futures
import random

import numpy as np
import orjson
import pytest

from services.batch_prediction import formats, numeric
from services.batch_prediction.formats import InstanceConfig
from shared.modelschema import InputSchema

HEAD, TAIL = b'{"instance": [', b"]}"
WIDTH = 5


def _number(rng: random.Random) -> bytes:
    """A JSON number in one of the ways writers spell them."""
    kind = rng.randrange(7)
    if kind == 0:
        return str(rng.randint(-(10**6), 10**6)).encode()
    if kind == 1:
        return repr(rng.uniform(-1e3, 1e3)).encode()  # shortest repr, 17 digits
    if kind == 2:
        return f"{rng.gauss(0, 1):.4f}".encode()
    if kind == 3:
        return f"{rng.uniform(-1, 1) * 10 ** rng.randint(-300, 300):e}".encode()  # 1.5e-07
    if kind == 4:
        return f"{rng.uniform(1, 9):.3f}E+{rng.randint(0, 20):02d}".encode()
    if kind == 5:
        return rng.choice([b"0", b"-0", b"0.0", b"-0.0", b"10", b"100.001", b"1e-05"])
    return orjson.dumps(rng.uniform(-1e-5, 1e-5))


@pytest.mark.parametrize("seed", range(20))
def test_generated_numbers_parse_as_json_parses_them(seed):
    rng = random.Random(seed)
    rows = [[_number(rng) for _ in range(WIDTH)] for _ in range(rng.randint(1, 60))]
    separators = [b", ", b",", b" , "]
    for head, tail in ((HEAD, TAIL), (b"[", b"]")):
        blob = b"".join(head + rng.choice(separators).join(row) + tail + b"\n" for row in rows)
        matrix = numeric.parse_lines(blob, head, tail, WIDTH)
        assert matrix is not None, blob[:200]
        expected = np.array([orjson.loads(b"[" + b",".join(row) + b"]") for row in rows])
        assert matrix.shape == expected.shape
        assert np.array_equal(matrix, expected)
        newlines = np.flatnonzero(np.frombuffer(blob, np.uint8) == 10)  # as the reader finds them
        assert np.array_equal(numeric.parse_lines(blob, head, tail, WIDTH, newlines), expected)


NOT_JSON = [
    b".5",
    b"5.",
    b"01",
    b"-01",
    b"00",
    b"+1",
    b"1e",
    b"1-2",
    b"- 1",
    b"1 2",
    b"nan",
    b"NaN",
    b"inf",
    b"-Infinity",
    b"0x10",
    b"1_0",
    b"true",
    b"null",
    b'"1"',
    b"[1]",
    b"",
    b"1.2.3",
    b"1e5e5",
    b"e5",
    b"--1",
    b"1x",  # the byte the proof marks others with
    "1\u00e9".encode(),
    b"1\t",
    b"\x001",
    b"1%",  # the fast path's output template is filled with `%`
    b"%b",
    b"1}",  # a wrapper byte the template is made at
]


@pytest.mark.parametrize("value", NOT_JSON)
def test_text_json_refuses_is_never_taken(value):
    row = b"1, " + value + b", 3, 4, 5"
    for head, tail in ((HEAD, TAIL), (b"[", b"]")):
        blob = head + b"1, 2, 3, 4, 5" + tail + b"\n" + head + row + tail + b"\n"
        assert numeric.parse_lines(blob, head, tail, WIDTH) is None, blob


def test_a_refused_number_becomes_an_error_line_and_the_rest_are_predicted():
    schema = InputSchema.numeric_features([f"f{i}" for i in range(WIDTH)])
    blob = b'{"instance": [1, 2, 3, 4, 5]}\n{"instance": [1, 2, 3, 4, 05]}\n'
    batch = formats.parse_jsonl(blob, 0, "gs://b/o", schema, InstanceConfig())
    assert batch.rows == 1
    assert len(batch.errors) == 1
    assert b"Not a JSON value" in batch.errors[0]


def test_wrapper_bytes_inside_values_are_not_taken():
    # `e` and `n` of "instance" inside a value, and a second object on one line.
    for line in (b"1, 2, 3, 4, 5e", b"1, 2, 3, 4, n5", b'1, 2]}{"instance": [3, 4, 5'):
        blob = HEAD + line + TAIL + b"\n"
        assert numeric.parse_lines(blob, HEAD, TAIL, WIDTH) is None, line


def test_without_pyarrow_the_same_matrix(monkeypatch):
    blob = b"".join(HEAD + b"1.5, -2, 3e2, 0, 7" + TAIL + b"\n" for _ in range(3))
    with_arrow = numeric.parse_lines(blob, HEAD, TAIL, WIDTH)
    monkeypatch.setattr(numeric, "_arrow_reader", lambda width, threads: None)
    without = numeric.parse_lines(blob, HEAD, TAIL, WIDTH)
    assert with_arrow is not None
    assert without is not None
    assert np.array_equal(with_arrow, without)


def test_bytes_that_are_no_number_are_refused_also_where_an_exponent_cuts_by_mask():
    # `1e5` holds the wrapper's `e`, so the wrappers are cut by mask, not by `translate`.
    for other in (b"2\t", b"2\x0b", b"x2"):
        blob = HEAD + b"1e5, " + other + b", 3, 4, 5" + TAIL + b"\n"
        assert numeric.parse_lines(blob, HEAD, TAIL, WIDTH) is None, other
    assert (
        numeric.parse_lines(HEAD + b"1e5, 2, 3, 4, 5" + TAIL + b"\n", HEAD, TAIL, WIDTH) is not None
    )


def test_threads_parsing_at_once_each_get_their_own_chunk():
    # Jobs run on several threads of one process and share its Arrow readers (one per width):
    # chunks of other sizes parsed at the same time must neither mix nor be refused.
    def chunk(seed: int) -> tuple[bytes, np.ndarray]:
        rng = random.Random(seed)
        rows = [[_number(rng) for _ in range(WIDTH)] for _ in range(rng.randint(100, 900))]
        blob = b"".join(HEAD + b", ".join(row) + TAIL + b"\n" for row in rows)
        return blob, np.array([[orjson.loads(value) for value in row] for row in rows])

    chunks = [chunk(seed) for seed in range(4)]
    bad = HEAD + b"1, 2, 3, 4, 01" + TAIL + b"\n"

    def work(index: int) -> bool:
        blob, expected = chunks[index % len(chunks)]
        for _ in range(30):
            matrix = numeric.parse_lines(blob, HEAD, TAIL, WIDTH)
            if matrix is None or not np.array_equal(matrix, expected):
                return False
            if numeric.parse_lines(bad, HEAD, TAIL, WIDTH) is not None:
                return False
        return True

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        assert all(pool.map(work, range(8)))
