"""Instances checked against a model's input schema, and baseline statistics."""

from __future__ import annotations

import math

import numpy as np
import pytest

from shared.errors import ApiError
from shared.modelschema import (
    Feature,
    InputSchema,
    baseline_means,
    compute_baseline,
    rows_as_objects,
    to_matrix,
)

NUMERIC = InputSchema((Feature("a"), Feature("b", "integer"), Feature("c", "boolean")))
MISSING_OK = InputSchema((Feature("a", allow_missing=True), Feature("b")))
MIXED = InputSchema((Feature("colour", "string"), Feature("size")))


@pytest.mark.parametrize(
    ("schema", "instances", "expected"),
    [
        (NUMERIC, [[1.5, 2, True], [0, -3, 0]], [[1.5, 2, 1], [0, -3, 0]]),
        (NUMERIC, [{"c": False, "a": 1, "b": 4}], [[1, 4, 0]]),
        (NUMERIC, [[1, 2.0, 1]], [[1, 2, 1]]),
        (
            MISSING_OK,
            [[None, 1], ["NaN", 2], {"b": 3}],
            [[math.nan, 1], [math.nan, 2], [math.nan, 3]],
        ),
        (MISSING_OK, [[1, 2], [None, 2]], [[1, 2], [math.nan, 2]]),
    ],
)
def test_valid_numeric_instances(schema, instances, expected):
    matrix = to_matrix(instances, schema)
    assert matrix.dtype == np.float64
    np.testing.assert_array_equal(matrix, np.array(expected, dtype=float))


def test_mixed_instances_make_an_object_matrix():
    matrix = to_matrix([["red", 1], {"colour": "blue", "size": 2.5}], MIXED)
    assert matrix.dtype == object
    assert matrix.tolist() == [["red", 1.0], ["blue", 2.5]]


@pytest.mark.parametrize(
    ("schema", "instances", "message"),
    [
        (NUMERIC, None, "instances: is required"),
        (NUMERIC, [], "instances: must be a non-empty list"),
        (NUMERIC, "abc", "instances: must be a non-empty list"),
        (NUMERIC, [[1, 2, 1], [1, 2]], "instances[1]: has 2 values; the model takes 3"),
        (NUMERIC, [[1, 2, 1], "x"], "instances[1]: must be a list of feature values or an"),
        (NUMERIC, [[1, "2", 1]], 'instances[0].b: expected a number, got string "2"'),
        (NUMERIC, [[1, 2.5, 1]], "instances[0].b: expected an integer, got 2.5"),
        (NUMERIC, [[1, 2, 2]], "instances[0].c: expected true or false, got 2"),
        (NUMERIC, [[None, 2, 1]], "instances[0].a: is missing (null or NaN)"),
        (NUMERIC, [["NaN", 2, 1]], "instances[0].a: is missing (null or NaN)"),
        (NUMERIC, [["Infinity", 2, 1]], "instances[0].a: is infinite"),
        (NUMERIC, [[1e400, 2, 1]], "instances[0].a: is infinite"),
        (NUMERIC, [[[1], 2, 1]], "instances[0].a: expected a number, got list"),
        (NUMERIC, [{"a": 1, "b": 2}], "instances[0].c: is missing"),
        (NUMERIC, [{"a": 1, "b": 2, "c": 1, "d": 0}], "instances[0].d: is not a feature"),
        (MIXED, [[3, 1.0]], "instances[0].colour: expected a string, got int 3"),
        (MIXED, [[None, 1.0]], "instances[0].colour: is missing"),
    ],
)
def test_invalid_instances_name_the_instance_and_field(schema, instances, message):
    with pytest.raises(ApiError) as caught:
        to_matrix(instances, schema)
    error = caught.value
    assert error.code.name == "INVALID_ARGUMENT"
    assert error.message.startswith(message)
    field = message.split(":")[0]
    assert error.details[0]["fieldViolations"][0]["field"] == field


def test_schema_refuses_duplicates_and_unknown_types():
    with pytest.raises(ApiError, match="repeated"):
        InputSchema((Feature("a"), Feature("a")))
    with pytest.raises(ApiError, match="unknown type"):
        InputSchema((Feature("a", "float"),))  # type: ignore[arg-type]
    schema = InputSchema.from_json(NUMERIC.to_json())
    assert schema == NUMERIC


def test_baseline_statistics():
    rows = [["red", 1.0], ["red", 3.0], ["blue", None], ["green", 5.0]]
    baseline = compute_baseline(rows, MIXED, bins=2)
    assert baseline["count"] == 4
    colour = baseline["features"]["colour"]
    assert colour == {
        "kind": "categorical",
        "missing": 0,
        "frequencies": {"red": 0.5, "blue": 0.25, "green": 0.25},
    }
    size = baseline["features"]["size"]
    assert size["kind"] == "numeric"
    assert size["mean"] == 3.0
    assert size["std"] == pytest.approx(math.sqrt(8 / 3))
    assert size["missing"] == 1
    assert size["histogram"] == {"edges": [1.0, 3.0, 5.0], "counts": [1, 2]}
    assert baseline_means(baseline, MIXED) == ["red", 3.0]


def test_boolean_baselines_are_categorical():
    baseline = compute_baseline([[1, 2, 1], [2, 3, 0], [3, 4, 1]], NUMERIC)
    assert baseline["features"]["c"]["frequencies"] == {"true": 2 / 3, "false": 1 / 3}
    assert baseline_means(baseline, NUMERIC) == [2.0, 3.0, 1.0]


def test_rows_as_objects_puts_missing_back_as_null():
    matrix = to_matrix([[None, 1]], MISSING_OK)
    assert rows_as_objects(matrix, MISSING_OK) == [{"a": None, "b": 1.0}]
