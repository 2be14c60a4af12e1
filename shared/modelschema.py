"""A model's input schema, instance validation, and training-data baseline statistics.

Pure logic over numpy, no I/O; used by the prediction services and by `shared.registry`.

Instances come as Vertex AI sends them: each one a list of feature values in schema order, or
an object keyed by feature name. `to_matrix` checks them against the schema and returns one
2-D array (float64 when every feature is numeric, object otherwise); the first defect is an
INVALID_ARGUMENT naming the instance and the field (`instances[3].petal_width: ...`), with a
`google.rpc.BadRequest` field violation in the error details, as Google's APIs report them.

Value rules, per feature type:

| type | accepts | missing (`null`, `"NaN"`) |
|---|---|---|
| `double` | numbers, booleans (0/1); never infinities | only with `allowMissing` |
| `integer` | numbers with an integral value | only with `allowMissing` |
| `boolean` | `true`/`false`, 0/1 | only with `allowMissing` |
| `string` | strings | only with `allowMissing` (passed on as `None`) |

Baseline statistics (`compute_baseline`) are what skew and drift monitoring compares serving
traffic with: per numeric feature a histogram, mean and std; per categorical feature the value
frequencies.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np

from shared.errors import ApiError, Code, echo, invalid_argument

FeatureType = Literal["double", "integer", "boolean", "string"]
FEATURE_TYPES: tuple[str, ...] = ("double", "integer", "boolean", "string")
NUMERIC_TYPES = frozenset({"double", "integer", "boolean"})
_SPECIAL_DOUBLES = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_MAX_CATEGORIES = 1000  # distinct values kept per categorical baseline; the rest is "__other__"


@dataclasses.dataclass(frozen=True)
class Feature:
    name: str
    type: FeatureType = "double"
    allow_missing: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "allowMissing": self.allow_missing}


@dataclasses.dataclass(frozen=True)
class InputSchema:
    features: tuple[Feature, ...]

    def __post_init__(self) -> None:
        if not self.features:
            raise invalid_argument("An input schema needs at least one feature.")
        names = [f.name for f in self.features]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise invalid_argument(f"Feature names must be unique; repeated: {duplicates}.")
        for feature in self.features:
            if feature.type not in FEATURE_TYPES:
                raise invalid_argument(
                    f"Feature {feature.name!r} has unknown type {feature.type!r}; "
                    f"use one of {list(FEATURE_TYPES)}."
                )

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.features]

    @functools.cached_property
    def features_by_name(self) -> dict[str, Feature]:
        return {f.name: f for f in self.features}

    @functools.cached_property
    def numeric(self) -> bool:
        """True when every feature is numeric, so instances become a float64 matrix."""
        return all(f.type in NUMERIC_TYPES for f in self.features)

    @functools.cached_property
    def allows_missing(self) -> bool:
        return any(f.allow_missing for f in self.features)

    @functools.cached_property
    def _columns_by_type(self) -> dict[str, list[int]]:
        columns: dict[str, list[int]] = {t: [] for t in FEATURE_TYPES}
        for index, feature in enumerate(self.features):
            columns[feature.type].append(index)
        return columns

    @classmethod
    def numeric_features(cls, names: Sequence[str], **kwargs: Any) -> InputSchema:
        return cls(tuple(Feature(name, "double", **kwargs) for name in names))

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> InputSchema:
        try:
            return cls(
                tuple(
                    Feature(
                        name=str(item["name"]),
                        type=item.get("type", "double"),
                        allow_missing=bool(item.get("allowMissing", False)),
                    )
                    for item in data["features"]
                )
            )
        except (KeyError, TypeError) as exc:
            raise invalid_argument(
                f'inputSchema must be {{"features": [{{"name", "type", "allowMissing"}}]}}: {exc}'
            ) from None

    def to_json(self) -> dict[str, Any]:
        return {"features": [f.to_json() for f in self.features]}


def field_error(field: str, description: str) -> ApiError:
    """INVALID_ARGUMENT for one field, with Google's `BadRequest.fieldViolations` detail."""
    return ApiError(
        Code.INVALID_ARGUMENT,
        f"{field}: {description}",
        details=[
            {
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [{"field": field, "description": description}],
            }
        ],
    )


def check_instances(instances: Any) -> list[Any]:
    """`instances` must be a non-empty JSON list."""
    if instances is None:
        raise field_error("instances", "is required: a non-empty list of instances.")
    if not isinstance(instances, list) or not instances:
        raise field_error("instances", "must be a non-empty list of instances.")
    return instances


def to_matrix(instances: Any, schema: InputSchema) -> np.ndarray:
    """Instances (lists in schema order, or objects keyed by feature name) as one 2-D array,
    checked against `schema`. Raises INVALID_ARGUMENT naming the first bad instance and field."""
    instances = check_instances(instances)
    if schema.numeric and isinstance(instances[0], list):
        matrix = _fast_numeric(instances, schema)
        if matrix is not None:
            return matrix
    return _checked(instances, schema)


def _fast_numeric(instances: list[Any], schema: InputSchema) -> np.ndarray | None:
    """The common case in one numpy conversion; None sends the instances to the slow path,
    which finds and names the defect."""
    try:
        raw = np.asarray(instances)
    except (ValueError, TypeError):
        return None
    if raw.dtype.kind not in "biuf" or raw.ndim != 2 or raw.shape[1] != len(schema.features):
        return None
    matrix = raw.astype(np.float64, copy=False)
    return np.ascontiguousarray(matrix) if fits(matrix, schema) else None


def fits(matrix: np.ndarray, schema: InputSchema) -> bool:
    """Whether every value of a float64 matrix in schema order is one the checked way accepts
    for its feature: finite, whole for an integer feature, 0 or 1 for a boolean one. (A
    matrix that does not fit goes the checked way, which names the defect.)"""
    if not np.isfinite(matrix).all():
        return False
    integers = schema._columns_by_type["integer"]
    if integers and not np.array_equal(matrix[:, integers], np.round(matrix[:, integers])):
        return False
    booleans = schema._columns_by_type["boolean"]
    return not booleans or bool(np.isin(matrix[:, booleans], (0.0, 1.0)).all())


def _checked(instances: list[Any], schema: InputSchema) -> np.ndarray:
    names = schema.names
    rows: list[list[Any]] = []
    for index, instance in enumerate(instances):
        if isinstance(instance, Mapping):
            unknown = [key for key in instance if key not in schema.features_by_name]
            if unknown:
                raise field_error(
                    f"instances[{index}].{unknown[0]}",
                    f"is not a feature of this model; its features are {names}.",
                )
            values = [instance.get(name) for name in names]
        elif isinstance(instance, list):
            if len(instance) != len(names):
                raise field_error(
                    f"instances[{index}]",
                    f"has {len(instance)} values; the model takes {len(names)} features "
                    f"in this order: {names}.",
                )
            values = instance
        else:
            raise field_error(
                f"instances[{index}]",
                "must be a list of feature values or an object keyed by feature name.",
            )
        rows.append(
            [
                _check_value(value, feature, index)
                for value, feature in zip(values, schema.features, strict=True)
            ]
        )
    dtype = np.float64 if schema.numeric else object
    return np.array(rows, dtype=dtype)


def _check_value(value: Any, feature: Feature, index: int) -> Any:
    field = f"instances[{index}].{feature.name}"
    if value is None or (feature.type != "string" and value == "NaN"):
        if not feature.allow_missing:
            raise field_error(field, "is missing (null or NaN), and this feature allows none.")
        return None if feature.type == "string" else math.nan
    if feature.type == "string":
        if not isinstance(value, str):
            raise field_error(field, f"expected a string, got {_describe(value)}.")
        return value
    if isinstance(value, str) and value in _SPECIAL_DOUBLES:
        value = _SPECIAL_DOUBLES[value]
    if not isinstance(value, int | float):
        raise field_error(field, f"expected a number, got {_describe(value)}.")
    number = float(value)
    if math.isnan(number):
        if not feature.allow_missing:
            raise field_error(field, "is NaN, and this feature allows no missing values.")
        return number
    if math.isinf(number):
        raise field_error(field, "is infinite; only finite numbers are accepted.")
    if feature.type == "integer" and not number.is_integer():
        raise field_error(field, f"expected an integer, got {echo(value)}.")
    if feature.type == "boolean" and number not in (0.0, 1.0):
        raise field_error(field, f"expected true or false, got {echo(value)}.")
    return number


def _describe(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else f'"{value}"'
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{type(value).__name__} {text}" if not isinstance(value, str) else f"string {text}"


def rows_as_objects(matrix: np.ndarray, schema: InputSchema) -> list[dict[str, Any]]:
    """Validated rows back as objects keyed by feature name (missing values as null)."""
    names = schema.names
    out = []
    for row in matrix.tolist():
        out.append(
            {
                name: (None if isinstance(v, float) and math.isnan(v) else v)
                for name, v in zip(names, row, strict=True)
            }
        )
    return out


def compute_baseline(
    rows: Sequence[Sequence[Any]] | np.ndarray, schema: InputSchema, bins: int = 20
) -> dict[str, Any]:
    """Training-data statistics per feature, as stored in a model version's metadata:
    `{"count", "features": {name: {"kind": "numeric", "mean", "std", "min", "max", "missing",
    "histogram": {"edges", "counts"}} | {"kind": "categorical", "missing", "frequencies"}}}`.
    Histograms have `bins` equal-width bins between the observed min and max."""
    data = np.asarray(rows, dtype=object if not schema.numeric else np.float64)
    if data.ndim != 2 or data.shape[1] != len(schema.features):
        raise invalid_argument(
            f"Training data must be rows of {len(schema.features)} values, got shape {data.shape}."
        )
    features: dict[str, Any] = {}
    for index, feature in enumerate(schema.features):
        column = data[:, index]
        if feature.type in ("double", "integer"):
            features[feature.name] = _numeric_stats(column, bins)
        else:
            features[feature.name] = _categorical_stats(column)
    return {"count": int(data.shape[0]), "features": features}


def _numeric_stats(column: np.ndarray, bins: int) -> dict[str, Any]:
    values = np.array([v for v in column if v is not None], dtype=np.float64)
    finite = values[np.isfinite(values)]
    missing = int(column.shape[0] - finite.shape[0])
    if finite.size == 0:
        return {"kind": "numeric", "missing": missing, "histogram": {"edges": [], "counts": []}}
    counts, edges = np.histogram(finite, bins=bins)
    return {
        "kind": "numeric",
        "mean": float(finite.mean()),
        "std": float(finite.std()),
        "min": float(finite.min()),
        "max": float(finite.max()),
        "missing": missing,
        "histogram": {"edges": edges.tolist(), "counts": counts.tolist()},
    }


def _categorical_stats(column: np.ndarray) -> dict[str, Any]:
    present = [_category(v) for v in column if not _is_missing(v)]
    counts = Counter(present)
    total = len(present) or 1
    frequencies: dict[str, float] = {}
    for value, count in counts.most_common(_MAX_CATEGORIES):
        frequencies[value] = count / total
    other = sum(counts.values()) - sum(c for _, c in counts.most_common(_MAX_CATEGORIES))
    if other:
        frequencies["__other__"] = other / total
    return {
        "kind": "categorical",
        "missing": int(column.shape[0] - len(present)),
        "frequencies": frequencies,
    }


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _category(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float) and value in (0.0, 1.0):
        return "true" if value else "false"
    return str(value)


def baseline_means(baseline: Mapping[str, Any] | None, schema: InputSchema) -> list[Any]:
    """A baseline instance for explanations: the training mean of each numeric feature and
    the most frequent value of each categorical one; 0 / None where no statistics exist."""
    stats = (baseline or {}).get("features", {})
    out: list[Any] = []
    for feature in schema.features:
        entry = stats.get(feature.name, {})
        if feature.type in ("double", "integer"):
            out.append(float(entry.get("mean", 0.0)))
        else:
            frequencies = entry.get("frequencies") or {}
            top = max(frequencies, key=frequencies.get) if frequencies else None
            if feature.type == "boolean":
                out.append(1.0 if top == "true" else 0.0)
            else:
                out.append(top)
    return out
