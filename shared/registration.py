"""Registering models: what the registry needs from a model artifact or an in-memory model.

- `register_model`: a scikit-learn model, XGBoost booster/estimator or LightGBM booster/estimator
  in memory, serialised in its framework's own format and registered, with the baseline
  statistics of its training data (for skew and drift monitoring);
- `register_artifact`: an artifact file's bytes, its framework told by its name (`model.joblib`,
  `.json`, `.txt`, ...) or given, with a schema and baseline from a training CSV when given.

Both doors (`mlapi models register`, and later Vertex AI's ModelService) register the same
`ModelVersion` records through `shared.registry.Registry`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from shared.errors import ApiError, invalid_argument
from shared.modelschema import Feature, InputSchema, compute_baseline
from shared.registry import ARTIFACTS, ModelVersion, Registry

# Artifact file endings -> framework (the names the prebuilt containers load).
EXTENSIONS = {
    ".joblib": "sklearn",
    ".pkl": "sklearn",
    ".json": "xgboost",
    ".ubj": "xgboost",
    ".bst": "xgboost",
    ".txt": "lightgbm",
}


def register_model(
    registry: Registry,
    name: str,
    model: Any,
    *,
    feature_names: Sequence[str] | None = None,
    feature_types: Sequence[str] | None = None,
    allow_missing: bool = False,
    training_data: Any = None,
    output_kind: str = "regression",
    classes: Sequence[Any] | None = None,
    version: str = "",
    aliases: Sequence[str] = (),
    labels: dict[str, str] | None = None,
) -> ModelVersion:
    """Serialise a scikit-learn model, XGBoost booster/estimator or LightGBM booster/estimator
    in its framework's format and register it, with baseline statistics of `training_data`."""
    framework, artifact_name, artifact, framework_version = serialise_model(model)
    schema = None
    if feature_names is not None:
        types = list(feature_types or ["double"] * len(feature_names))
        schema = InputSchema(
            tuple(Feature(n, t, allow_missing) for n, t in zip(feature_names, types, strict=True))
        )
    baseline = (
        compute_baseline(training_data, schema)
        if (training_data is not None and schema is not None)
        else None
    )
    output: dict[str, Any] = {"kind": output_kind}
    if classes is not None:
        output["classes"] = list(classes)
    registered = registry.register(
        ModelVersion(
            name=name,
            version=version,
            framework=framework,
            artifact=artifact_name,
            output=output,
            schema=schema,
            framework_version=framework_version,
            baseline=baseline,
            labels=dict(labels or {}),
        ),
        artifact,
    )
    _store_compiled(registry, registered, artifact)
    for alias in aliases:
        registry.set_alias(name, alias, registered.version)
    return registered


def _store_compiled(registry: Registry, version: ModelVersion, artifact: bytes) -> None:
    """A linear scikit-learn version's compiled form, so serving processes start without
    importing scikit-learn (`shared.sklearnfast`)."""
    if version.framework != "sklearn":
        return
    from shared.modelruntime import load

    try:
        compiled = load(version, artifact).compiled
    except ApiError:
        return  # the service reports a version that cannot load when it is used
    if compiled is not None:
        registry.write_compiled(version, compiled)


def serialise_model(model: Any) -> tuple[str, str, bytes, str]:
    module = type(model).__module__.split(".")[0]
    if module == "xgboost":
        import xgboost

        booster = model.get_booster() if hasattr(model, "get_booster") else model
        return "xgboost", "model.json", bytes(booster.save_raw("json")), xgboost.__version__
    if module == "lightgbm":
        import lightgbm

        booster = model.booster_ if hasattr(model, "booster_") else model
        return "lightgbm", "model.txt", booster.model_to_string().encode(), lightgbm.__version__
    import joblib
    import sklearn

    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    return "sklearn", "model.joblib", buffer.getvalue(), sklearn.__version__


def register_artifact(
    registry: Registry,
    name: str,
    artifact: bytes,
    filename: str,
    *,
    framework: str | None = None,
    version: str = "",
    output: dict[str, Any] | None = None,
    schema: InputSchema | None = None,
    training_csv: Path | None = None,
    label_column: str | None = None,
    allow_missing: bool = False,
    aliases: Sequence[str] = (),
) -> ModelVersion:
    """Register an artifact file's bytes. The framework comes from `framework` or the file's
    ending; with `training_csv`, the baseline statistics (and the schema, when not given)."""
    suffix = Path(filename).suffix
    framework = framework or EXTENSIONS.get(suffix)
    if framework is None:
        raise invalid_argument(f"Cannot tell the framework of {filename}; name the framework.")
    names = [p for p in ARTIFACTS[framework] if p.endswith(suffix)]
    baseline = None
    if training_csv is not None:
        header, rows = read_csv(training_csv, label_column)
        if schema is None:
            schema = infer_schema(header, rows, allow_missing)
        baseline = compute_baseline(
            [[_cell(v, f.type) for v, f in zip(row, schema.features, strict=True)] for row in rows],
            schema,
        )
    registered = registry.register(
        ModelVersion(
            name=name,
            version=version,
            framework=framework,
            artifact=names[0] if names else ARTIFACTS[framework][0],
            output=output or {"kind": "regression"},
            schema=schema,
            baseline=baseline,
        ),
        artifact,
    )
    _store_compiled(registry, registered, artifact)
    for alias in aliases:
        registry.set_alias(name, alias, registered.version)
    return registered


def parse_features(spec: str, allow_missing: bool) -> InputSchema:
    """`NAME[:TYPE],...` -> the input schema."""
    features = []
    for item in spec.split(","):
        name, _, kind = item.strip().partition(":")
        features.append(Feature(name, kind or "double", allow_missing))  # type: ignore[arg-type]
    return InputSchema(tuple(features))


def read_csv(path: Path, label: str | None) -> tuple[list[str], list[list[str]]]:
    """A CSV's header and rows, without the `label` column."""
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if not header:
            raise invalid_argument(f"{path} is empty; it needs a header row.")
        rows = [row for row in reader if row]
    if label is not None:
        if label not in header:
            raise invalid_argument(f"The label column {label!r} is not in {path}'s header.")
        index = header.index(label)
        header = header[:index] + header[index + 1 :]
        rows = [row[:index] + row[index + 1 :] for row in rows]
    return header, rows


def infer_schema(header: list[str], rows: list[list[str]], allow_missing: bool) -> InputSchema:
    """Numeric columns are `double`, the others `string`."""

    def numeric(column: int) -> bool:
        try:
            for row in rows:
                if row[column] != "":
                    float(row[column])
        except ValueError:
            return False
        return True

    return InputSchema(
        tuple(
            Feature(name, "double" if numeric(i) else "string", allow_missing)
            for i, name in enumerate(header)
        )
    )


def _cell(value: str, kind: str) -> Any:
    if value == "":
        return None
    if kind == "boolean":
        return 1.0 if value.strip().lower() in ("1", "1.0", "true") else 0.0
    return value if kind == "string" else float(value)
