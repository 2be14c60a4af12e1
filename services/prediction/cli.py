"""`mlapi models register | list | alias | split`: manage the model registry.

    python -m services.prediction.cli register iris model.joblib --training-data iris.csv \\
        --label-column species --output-kind classification --alias champion
    python -m services.prediction.cli list [iris]
    python -m services.prediction.cli alias iris challenger 2      (--delete to remove)
    python -m services.prediction.cli split iris champion=90 challenger=10

Every option is also an environment variable: `--bucket` is `REGISTRY_BUCKET`, `--prefix`
`REGISTRY_PREFIX`; `STORAGE_EMULATOR_HOST` points at the emulator. `main(argv)` returns the exit
status: 0, 1 for a refused request (Google's status and message on stderr), 2 for bad usage.

`register_model` is the same from Python, for a model object in memory.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from shared.errors import ApiError, invalid_argument
from shared.modelschema import FEATURE_TYPES, Feature, InputSchema, compute_baseline
from shared.registry import ARTIFACTS, ModelVersion, Registry
from shared.storage import Storage
from shared.traffic import parse_split_args

_EXTENSIONS = {
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
    framework, artifact_name, artifact, framework_version = _serialise(model)
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
    for alias in aliases:
        registry.set_alias(name, alias, registered.version)
    return registered


def _serialise(model: Any) -> tuple[str, str, bytes, str]:
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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mlapi models", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--bucket",
        default=os.environ.get("REGISTRY_BUCKET", "mlapi-models"),
        help="registry bucket [REGISTRY_BUCKET]",
    )
    parser.add_argument(
        "--prefix",
        default=os.environ.get("REGISTRY_PREFIX", "models"),
        help="registry folder in the bucket [REGISTRY_PREFIX]",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    register = commands.add_parser("register", help="register a model artifact as a version")
    register.add_argument("name")
    register.add_argument(
        "artifact",
        type=Path,
        help="model.joblib/.pkl (scikit-learn), .json/.ubj/.bst (XGBoost), .txt (LightGBM)",
    )
    register.add_argument("--version", default="", help="version id (default: next integer)")
    register.add_argument("--framework", choices=sorted(ARTIFACTS))
    register.add_argument(
        "--output-kind", default="regression", choices=("regression", "label", "classification")
    )
    register.add_argument("--classes", help="comma-separated class labels, in score order")
    register.add_argument(
        "--features",
        help="NAME[:TYPE],... in input order; TYPE one of "
        f"{', '.join(FEATURE_TYPES)} (default double)",
    )
    register.add_argument(
        "--allow-missing",
        action="store_true",
        help="features accept null/NaN (XGBoost and LightGBM handle them)",
    )
    register.add_argument(
        "--training-data",
        type=Path,
        help="CSV with a header row: baseline statistics (and the features "
        "when --features is not given)",
    )
    register.add_argument("--label-column", help="CSV column that is the label, not a feature")
    register.add_argument("--alias", action="append", default=[], help="alias to point here")
    register.add_argument("--create-bucket", action="store_true")

    listing = commands.add_parser("list", help="models, or one model's versions and traffic")
    listing.add_argument("name", nargs="?")

    alias = commands.add_parser("alias", help="point an alias at a version")
    alias.add_argument("name")
    alias.add_argument("alias")
    alias.add_argument("version", nargs="?")
    alias.add_argument("--delete", action="store_true")

    split = commands.add_parser("split", help="set the endpoint's traffic split")
    split.add_argument("name")
    split.add_argument("percents", nargs="+", metavar="VERSION=PERCENT")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    storage = Storage(os.environ.get("GOOGLE_CLOUD_PROJECT"))
    registry = Registry(args.bucket, args.prefix, storage)
    try:
        if args.command == "register":
            if args.create_bucket:
                storage.ensure_bucket(args.bucket)
            version = _register(registry, args)
            print(
                f"registered {version.name} version {version.version} "
                f"({version.framework}) at {registry.version_uri(version.name, version.version)}"
            )
        elif args.command == "list":
            _list(registry, args.name)
        elif args.command == "alias":
            if args.delete:
                aliases = registry.delete_alias(args.name, args.alias)
            elif not args.version:
                parser.error("alias needs a VERSION (or --delete)")
            else:
                aliases = registry.set_alias(args.name, args.alias, args.version)
            print(json.dumps(aliases, sort_keys=True))
        elif args.command == "split":
            split = registry.set_split(args.name, parse_split_args(args.percents))
            print(json.dumps(split, sort_keys=True))
    except ApiError as error:
        print(f"{error.code.name}: {error.message}", file=sys.stderr)
        return 1
    return 0


def _register(registry: Registry, args: argparse.Namespace) -> ModelVersion:
    framework = args.framework or _EXTENSIONS.get(args.artifact.suffix)
    if framework is None:
        raise invalid_argument(f"Cannot tell the framework of {args.artifact}; use --framework.")
    names = [p for p in ARTIFACTS[framework] if p.endswith(args.artifact.suffix)]
    artifact_name = names[0] if names else ARTIFACTS[framework][0]
    schema = _features(args.features, args.allow_missing) if args.features else None
    baseline = None
    if args.training_data:
        header, rows = _read_csv(args.training_data, args.label_column)
        if schema is None:
            schema = _infer_schema(header, rows, args.allow_missing)
        baseline = compute_baseline(
            [[_cell(v, f.type) for v, f in zip(row, schema.features, strict=True)] for row in rows],
            schema,
        )
    output: dict[str, Any] = {"kind": args.output_kind}
    if args.classes:
        output["classes"] = [c.strip() for c in args.classes.split(",")]
    version = registry.register(
        ModelVersion(
            name=args.name,
            version=args.version,
            framework=framework,
            artifact=artifact_name,
            output=output,
            schema=schema,
            baseline=baseline,
        ),
        args.artifact.read_bytes(),
    )
    for alias in args.alias:
        registry.set_alias(version.name, alias, version.version)
    return version


def _features(spec: str, allow_missing: bool) -> InputSchema:
    features = []
    for item in spec.split(","):
        name, _, kind = item.strip().partition(":")
        features.append(Feature(name, kind or "double", allow_missing))  # type: ignore[arg-type]
    return InputSchema(tuple(features))


def _read_csv(path: Path, label: str | None) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if not header:
            raise invalid_argument(f"{path} is empty; it needs a header row.")
        rows = [row for row in reader if row]
    if label is not None:
        if label not in header:
            raise invalid_argument(f"--label-column {label!r} is not in {path}'s header.")
        index = header.index(label)
        header = header[:index] + header[index + 1 :]
        rows = [row[:index] + row[index + 1 :] for row in rows]
    return header, rows


def _infer_schema(header: list[str], rows: list[list[str]], allow_missing: bool) -> InputSchema:
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


def _list(registry: Registry, name: str | None) -> None:
    if name is None:
        for model in registry.models():
            print(model)
        return
    snapshot = registry.snapshot(name)
    by_version: dict[str, list[str]] = {}
    for alias, version in sorted(snapshot.aliases.items()):
        by_version.setdefault(version, []).append(alias)
    try:
        traffic = snapshot.traffic(name).percents
    except ApiError:
        traffic = {}
    header = ("VERSION", "FRAMEWORK", "OUTPUT", "TRAFFIC", "CREATED")
    print("{:<10} {:<10} {:<15} {:>7}  {:<25} ALIASES".format(*header))
    for version in registry.versions(name):
        try:
            meta = registry.get(name, version)
            framework, kind, created = meta.framework, meta.output_kind, meta.create_time
        except ApiError:
            framework, kind, created = "?", "?", "(no metadata)"
        print(
            f"{version:<10} {framework:<10} {kind:<15} {traffic.get(version, 0):>6}%  "
            f"{created:<25} {','.join(by_version.get(version, []))}"
        )


if __name__ == "__main__":
    sys.exit(main())
