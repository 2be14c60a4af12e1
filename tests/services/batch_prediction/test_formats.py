"""The pure part: parsing chunks (fast and slow paths agree byte for byte), output lines, and
cutting inputs into shards and chunks so that every line is read exactly once."""

from __future__ import annotations

import json

import numpy as np
import orjson
import pytest

from services.batch_prediction import csvlines, formats
from services.batch_prediction.backends import shards
from services.batch_prediction.backends.base import Input, Plan
from services.batch_prediction.formats import InstanceConfig
from shared.modelschema import Feature, InputSchema

SCHEMA = InputSchema.numeric_features(["a", "b", "c"])


def _lines(batch: formats.Batch) -> list[dict]:
    predictions = formats.prediction_bytes(list(range(batch.rows)))
    out = formats.prediction_lines(batch, predictions)
    return [json.loads(line) for line in out.splitlines()]


def _errors(batch: formats.Batch) -> list[dict]:
    return [json.loads(line) for line in b"".join(batch.errors).splitlines()]


@pytest.mark.parametrize(
    "blob",
    [
        b'{"instance": [1, 2, 3]}\n{"instance": [4.5, -6e-3, 7]}\n',
        b"[1, 2, 3]\n[4.5, -6e-3, 7]\n",
    ],
)
def test_fast_path_output_is_the_slow_paths_byte_for_byte(blob):
    fast = formats.parse_jsonl(blob, 0, "gs://b/o", SCHEMA, InstanceConfig())
    slow = formats.parse_jsonl(blob + b"\n", 0, "gs://b/o", SCHEMA, InstanceConfig())  # blank
    assert fast.template is not None
    assert fast.matrix.tolist() == slow.matrix.tolist() == [[1, 2, 3], [4.5, -0.006, 7]]
    predictions = formats.prediction_bytes([0, 1])
    assert formats.prediction_lines(fast, predictions) == formats.prediction_lines(
        slow, predictions
    )
    first = formats.prediction_lines(fast, predictions).splitlines()[0]
    assert first == b'{"instance": [1, 2, 3], "prediction": 0}'


def test_the_fast_path_is_only_taken_when_every_line_fits():
    tricky = [
        b'{"instance": [1, 2, 3]}\n{"instance": [1, 2]}\n',  # short row
        b'{"instance": [1, 2, 3]}\n{"instance": [1, 2, "x"]}\n',  # a string
        b'{"instance": [1, 2, 3]}\n{"instance": [1, 2, null]}\n',  # missing value
        b'{"instance": [1, 2, 3]}\n{"instance": [1, 2, 3], "k": 1}\n',  # another field
        b'{"instance": [1, 2, 3]}\nnot json\n',
        b'{"instance": [1, 2, 3]}\n{"instance": [1, 2, 1e999]}\n',  # infinite
    ]
    for blob in tricky:
        batch = formats.parse_jsonl(blob, 0, "gs://b/o", SCHEMA, InstanceConfig())
        assert batch.rows == 1, blob
        assert len(batch.errors) == 1, blob
        assert _lines(batch)[0]["instance"] == [1, 2, 3]
    mixed = formats.parse_jsonl(
        b'{"instance": [1, 2, 3]}\n[4, 5, 6]\n', 0, "s", SCHEMA, InstanceConfig()
    )
    assert [line["instance"] for line in _lines(mixed)] == [[1, 2, 3], [4, 5, 6]]


def test_bad_rows_become_error_lines_in_input_order():
    blob = (
        b'{"a": 1, "b": 2, "c": 3}\n'
        b"not json at all\n"
        b"[1, 2]\n"
        b'{"a": 1, "b": 2, "zz": 3}\n'
        b'[1, 2, "NaN"]\n'
        b"\n"
        b"[7, 8, 9]\n"
    )
    batch = formats.parse_jsonl(blob, 100, "gs://b/o", SCHEMA, InstanceConfig())
    assert batch.matrix.tolist() == [[1, 2, 3], [7, 8, 9]]
    assert [line["instance"] for line in _lines(batch)] == [{"a": 1, "b": 2, "c": 3}, [7, 8, 9]]
    errors = _errors(batch)
    assert [e["instance"] for e in errors] == [
        "not json at all",
        [1, 2],
        {"a": 1, "b": 2, "zz": 3},
        [1, 2, "NaN"],
    ]
    assert {e["error"]["code"] for e in errors} == {3}
    assert "byte 125" in errors[0]["error"]["message"]  # offset 100 + the first line
    assert "missing" in errors[3]["error"]["message"]


def test_key_field_and_field_selection():
    blob = b'{"id": "x1", "a": 1, "b": 2, "c": 3, "note": "n"}\n{"a": 1}\n'
    keyed = formats.parse_jsonl(
        blob, 0, "s", SCHEMA, InstanceConfig(key_field="id", excluded_fields=("note",))
    )
    assert _lines(keyed) == [{"key": "x1", "prediction": 0}]
    assert "no key field" in _errors(keyed)[0]["error"]["message"]
    ordered = formats.parse_jsonl(
        b'{"c": 3, "b": 2, "a": 1, "x": 0}\n',
        0,
        "s",
        SCHEMA,
        InstanceConfig(included_fields=("a", "b", "c"), instance_type="array"),
    )
    assert ordered.matrix.tolist() == [[1, 2, 3]]


def test_csv_rows_by_header_name_with_key_and_bad_rows():
    schema = InputSchema((Feature("a"), Feature("b"), Feature("kind", "string")))
    blob = b"k1,2,1,red\nk2,2,1\nk3,x,1,blue\nk4,5,4,\n"
    batch = csvlines.parse_csv(
        blob, 10, "s", ["id", "b", "a", "kind"], schema, InstanceConfig(key_field="id")
    )
    assert batch.matrix.tolist() == [[1.0, 2.0, "red"]]
    assert [line["key"] for line in _lines(batch)] == ["k1"]
    messages = [e["error"]["message"] for e in _errors(batch)]
    assert "3 fields" in messages[0]
    assert "expected a number" in messages[1]
    assert "missing" in messages[2]


def test_prediction_bytes_of_labels_numbers_and_objects():
    assert formats.prediction_bytes([1, "cat", 1.5, {"classes": [0, 1], "scores": [0.2, 0.8]}]) == [
        b"1",
        b'"cat"',
        b"1.5",
        orjson.dumps({"classes": [0, 1], "scores": [0.2, 0.8]}),
    ]


def test_shards_are_numbered_across_inputs():
    plan = Plan(
        job="j",
        output_dir="gs://o/d",
        inputs=(
            Input("gs://b/1", 25, 1, "jsonl"),
            Input("gs://b/2", 0, 1, "jsonl"),
            Input("gs://b/3", 12, 1, "csv", 4, ("a",)),
        ),
        shard_bytes=10,
        chunk_size=5,
    )
    shards = plan.shards()
    assert [(s.number, s.input, s.start, s.end) for s in shards] == [
        (1, 0, 0, 10),
        (2, 0, 10, 20),
        (3, 0, 20, 25),
        (4, 2, 4, 12),
    ]
    assert plan.predictions_uri(4) == "gs://o/d/predictions_0004.jsonl"
    assert plan.errors_uri(12345) == "gs://o/d/errors_12345.jsonl"


@pytest.mark.parametrize(
    "blob",
    [
        b"[1, 0, 0]\n[-1, 0, 0]\n[2, 0, 0]\n",
        b'{"instance": [1, 0, 0]}\n{"instance": [-1, 0, 0]}\n{"instance": [2, 0, 0]}\n',
    ],
)
def test_a_model_that_fails_on_some_rows_fails_only_those(blob):
    class Picky:
        def predict(self, matrix):
            if (matrix[:, 0] < 0).any():
                raise ValueError("negative")
            return matrix[:, 0].tolist()

    batch = formats.parse_jsonl(blob, 0, "s", SCHEMA, InstanceConfig())
    assert batch.template is not None  # the fast path's chunk, then row by row
    predictions = shards.predict(Picky(), batch)
    out = formats.prediction_lines(batch, predictions)
    assert out == (
        b'{"instance": [1, 0, 0], "prediction": 1.0}\n{"instance": [2, 0, 0], "prediction": 2.0}\n'
    )
    assert _errors(batch)[0]["instance"] == [-1, 0, 0]
    assert "negative" in _errors(batch)[0]["error"]["message"]
    np.testing.assert_array_equal(batch.matrix, [[1, 0, 0], [2, 0, 0]])
