"""CSV chunks of numbers for a numeric model are parsed at once (`csvlines._fast_csv`) and
answered byte for byte as the exact way, row by row, answers them; anything else goes the
exact way."""

from __future__ import annotations

import random

import numpy as np
import pytest

from services.batch_prediction import csvlines, formats
from services.batch_prediction.formats import InstanceConfig
from shared.modelschema import InputSchema

NAMES = ["a", "b", "c", "d"]
SCHEMA = InputSchema.numeric_features(NAMES)


def _number(rng: random.Random) -> str:
    kind = rng.randrange(6)
    if kind == 0:
        return str(rng.randint(-(10**6), 10**6))
    if kind == 1:
        return repr(rng.uniform(-1e3, 1e3))  # as orjson writes it
    if kind == 2:
        return f"{rng.gauss(0, 1):.4f}"  # `1.5000` is written back `1.5`
    if kind == 3:
        return f"{rng.uniform(-1, 1) * 10 ** rng.randint(-30, 30):e}"
    if kind == 4:
        return rng.choice(["0", "-0", "0.0", "-0.0", "10", "1e5", "1E-7", "2.50", "1e+16"])
    return repr(round(rng.uniform(0, 1), 6))


def _both(blob: bytes, header: list[str]) -> tuple[formats.Batch, formats.Batch]:
    fast = csvlines.parse_csv(blob, 0, "s", header, SCHEMA, InstanceConfig())
    slow = csvlines.parse_csv(blob + b"\n", 0, "s", header, SCHEMA, InstanceConfig())  # blank
    return fast, slow


def _output(batch: formats.Batch) -> bytes:
    return formats.prediction_lines(batch, formats.prediction_bytes(list(range(batch.rows))))


@pytest.mark.parametrize("seed", range(12))
def test_generated_rows_are_answered_as_the_exact_way_answers_them(seed):
    rng = random.Random(seed)
    # All floats or all integers as orjson writes them: the text is its own echo.
    kind = seed % 4
    pick = {
        0: lambda: repr(rng.uniform(-9, 9)),
        1: lambda: str(rng.randint(-(10**15), 10**15)),
        2: lambda: rng.choice(["0", "-0", "7", "-12"]),  # `-0` is written `0`
    }.get(kind, lambda: _number(rng))
    rows = [[pick() for _ in NAMES] for _ in range(rng.randint(1, 80))]
    header = NAMES if seed % 2 else list(reversed(NAMES))  # by name: the schema's order
    blob = "".join(",".join(row) + "\n" for row in rows).encode()
    fast, slow = _both(blob, header)
    assert fast.template is not None
    assert slow.template is None
    assert fast.errors == slow.errors == []
    assert np.array_equal(fast.matrix, slow.matrix)
    assert _output(fast) == _output(slow)


@pytest.mark.parametrize(
    "line",
    [
        b'1,2,3,"4"',  # quoted: a string
        b"1,2,3, 4",
        b"1,2,3,",  # empty: missing
        b"1,2,3",
        b"1,2,3,4,5",
        b"1,2,3,4\r",
        b"1,2,3,1_000",
        b"1,2,3,+1",
        b"1,2,3,.5",
        b"1,2,3,inf",
        b"1,2,3,nan",
        b"1,2,3,1e400",
        b"1,2,3,01",
        b"1,2,3,x",
    ],
)
def test_other_lines_go_the_exact_way(line):
    blob = b"1.5,2,3,4\n" + line + b"\n"
    fast = csvlines.parse_csv(blob, 0, "s", NAMES, SCHEMA, InstanceConfig())
    assert fast.template is None  # the exact way, which names each defect
    slow = csvlines.parse_csv(blob + b"\n", 0, "s", NAMES, SCHEMA, InstanceConfig())
    assert np.array_equal(fast.matrix, slow.matrix)
    assert fast.errors == slow.errors


def test_a_key_field_goes_the_exact_way():
    blob = b"7,1,2,3,4\n8,5,6,7,8\n"
    header = ["id", *NAMES]
    keyed = csvlines.parse_csv(blob, 0, "s", header, SCHEMA, InstanceConfig(key_field="id"))
    assert keyed.template is None
    assert [keyed.echo(i) for i in range(keyed.rows)] == [b"7", b"8"]


def test_an_integer_beyond_64_bits_is_a_float_as_in_jsonl_both_ways():
    # It failed the whole job: orjson writes no integer over 64 bits.
    blob = b"1,2,3,12345678901234567890123\n"
    fast, slow = _both(blob, NAMES)
    assert fast.template is not None
    assert _output(fast) == _output(slow)
    assert b"1.2345678901234568e+22" in _output(slow)
