"""Framework adapters: a registered artifact in, one `ServedModel` with a vectorised predict out.

| framework | artifact | loaded with | predict |
|---|---|---|---|
| `sklearn` | `model.joblib` / `model.pkl` | `joblib.load` | `predict` / `predict_proba` |
| `xgboost` | `model.json` / `.ubj` / `.bst` | `Booster.load_model` | `Booster.inplace_predict` |
| `lightgbm` | `model.txt` | `Booster(model_str=...)` | `Booster.predict` |

The frameworks are imported when a model of theirs loads, never at service start. Boosters are
set to one thread each: the service gets its parallelism from concurrent requests and
micro-batches, and per-call thread pools cost more than they give on batches this small.

Output kinds (`metadata.json` `output.kind`): `regression` answers a number per instance
(a list for multi-output boosters), `label` the predicted class, `classification`
`{"classes": [...], "scores": [...]}`. For XGBoost and LightGBM classifiers the scores are the
booster's probabilities; a binary booster's single probability p becomes scores [1 - p, p].

Security: a joblib artifact is a pickle and runs code when loaded. Only register artifacts you
trust, exactly as with Vertex AI's prebuilt scikit-learn container.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
from collections.abc import Callable
from typing import Any

import numpy as np

from shared.errors import ApiError, Code
from shared.modelschema import Feature, InputSchema
from shared.registry import ARTIFACTS, ModelVersion

log = logging.getLogger(__name__)


class ModelLoadError(ApiError):
    """A version that cannot serve: a corrupt or mismatched artifact."""

    def __init__(self, version: ModelVersion, reason: str) -> None:
        super().__init__(
            Code.FAILED_PRECONDITION,
            f"Model {version.name!r} version {version.version!r} failed to load: {reason}",
        )


class ServedModel:
    """One loaded version. `predict_raw` is the vectorised call the micro-batcher wraps;
    `format` turns its output into per-instance JSON values. `native` is the framework's
    model (unpickled on first use when the version was served from its compiled form);
    `compiled`, the compiled form to store beside the version, when it was just made."""

    def __init__(
        self,
        version: ModelVersion,
        native: Any,
        schema: InputSchema,
        raw: Callable[[np.ndarray], np.ndarray],
        classes: list[Any] | None,
        native_loader: Callable[[], Any] | None = None,
        compiled: bytes | None = None,
    ) -> None:
        self.version = version
        self._native = native
        self._native_loader = native_loader
        self.schema = schema
        self.framework = version.framework
        self.kind = version.output_kind
        self.classes = classes
        self.compiled = compiled
        self._raw = raw

    @property
    def native(self) -> Any:
        if self._native is None and self._native_loader is not None:
            self._native = self._native_loader()
        return self._native

    def predict_raw(self, matrix: np.ndarray) -> np.ndarray:
        return self._raw(matrix)

    def predict(self, matrix: np.ndarray) -> list[Any]:
        return self.format(self.predict_raw(matrix))

    def format(self, raw: np.ndarray) -> list[Any]:
        """Per-instance predictions in the shape of this model's output kind."""
        if self.kind == "classification":
            scores = _scores(raw)
            classes = self.classes or list(range(scores.shape[1]))
            return [{"classes": classes, "scores": row} for row in scores.tolist()]
        if self.kind == "label" and self.framework != "sklearn":
            indices = _scores(raw).argmax(axis=1)
            classes = self.classes or list(range(int(indices.max(initial=0)) + 1))
            return [classes[i] for i in indices.tolist()]
        return raw.tolist()


def _scores(raw: np.ndarray) -> np.ndarray:
    if raw.ndim == 1:  # a binary booster's P(class 1)
        return np.column_stack((1.0 - raw, raw))
    return raw


def load(version: ModelVersion, artifact: bytes, compiled: bytes | None = None) -> ServedModel:
    """Load `artifact` with its framework (or from `compiled`, the `linear.npz` stored beside
    it, when it is a compiled form of this very artifact); any failure is a
    `ModelLoadError`."""
    loader = _LOADERS.get(version.framework)
    if loader is None:
        raise ModelLoadError(version, f"unknown framework {version.framework!r}.")
    try:
        served = _from_compiled(version, artifact, compiled) if compiled else None
        served = served or loader(version, artifact)
    except ModelLoadError:
        raise
    except Exception as exc:
        raise ModelLoadError(version, f"{type(exc).__name__}: {exc}") from exc
    _smoke_test(served)
    return served


def _smoke_test(served: ServedModel) -> None:
    """One prediction on a zero row, so a model that loads but cannot predict fails now."""
    if not served.schema.numeric:
        return
    try:
        served.predict(np.zeros((1, len(served.schema.features))))
    except Exception as exc:
        raise ModelLoadError(served.version, f"a test prediction failed: {exc}") from exc


def _sklearn_method(version: ModelVersion) -> str:
    return "predict_proba" if version.output_kind == "classification" else "predict"


def _from_compiled(version: ModelVersion, artifact: bytes, compiled: bytes) -> ServedModel | None:
    """The version served from its compiled form, without importing scikit-learn; None when
    that form does not fit (another artifact, method or schema): then the artifact loads."""
    from shared import sklearnfast

    schema = version.schema
    if version.framework != "sklearn" or schema is None or schema.allows_missing:
        return None
    found = sklearnfast.loads(compiled, hashlib.sha256(artifact).hexdigest())
    if found is None:
        return None
    predict, spec = found
    if str(spec["method"]) != _sklearn_method(version):
        return None
    classes = version.output.get("classes")
    if classes is None and "classes" in spec:
        classes = spec["classes"].tolist()

    def native() -> Any:
        import joblib

        return joblib.load(io.BytesIO(artifact))

    return ServedModel(version, None, schema, predict, classes, native_loader=native)


def _schema_for(
    version: ModelVersion, names: list[str] | None, count: int, allow_missing: bool
) -> InputSchema:
    """The registered schema, checked against the model; or one derived from the model."""
    if version.schema is not None:
        if count and len(version.schema.features) != count:
            raise ModelLoadError(
                version,
                f"the schema lists {len(version.schema.features)} features, the model takes "
                f"{count}.",
            )
        return version.schema
    if not count:
        raise ModelLoadError(version, "no input schema, and the model does not say its inputs.")
    names = names or [f"f{i}" for i in range(count)]
    return InputSchema(tuple(Feature(n, "double", allow_missing) for n in names))


def _load_sklearn(version: ModelVersion, artifact: bytes) -> ServedModel:
    import joblib
    import sklearn

    model = joblib.load(io.BytesIO(artifact))
    if not hasattr(model, "predict"):
        raise ModelLoadError(version, f"{type(model).__name__} has no predict method.")
    names = getattr(model, "feature_names_in_", None)
    schema = _schema_for(
        version,
        [str(n) for n in names] if names is not None else None,
        int(getattr(model, "n_features_in_", 0) or 0),
        allow_missing=False,
    )
    classes = version.output.get("classes")
    if classes is None and hasattr(model, "classes_"):
        classes = np.asarray(model.classes_).tolist()
    kind = version.output_kind
    if kind == "classification" and not hasattr(model, "predict_proba"):
        raise ModelLoadError(version, "output kind classification needs predict_proba.")
    method_name = _sklearn_method(version)
    method = getattr(model, method_name)
    if not schema.allows_missing:
        # Linear models as numpy arithmetic, proved equal to scikit-learn's answers at load.
        from shared import sklearnfast

        compiled = sklearnfast.compile_model(model, method_name, len(schema.features))
        if compiled is not None:
            stored = sklearnfast.dumps(compiled[1], hashlib.sha256(artifact).hexdigest())
            return ServedModel(version, model, schema, compiled[0], classes, compiled=stored)
    # The service has validated the instances (finite unless the schema allows missing), so
    # scikit-learn's own checks are skipped; they cost more than the predict on small batches.
    context: Callable[[], Any] = (
        contextlib.nullcontext
        if schema.allows_missing
        else lambda: sklearn.config_context(assume_finite=True, skip_parameter_validation=True)
    )

    def raw(matrix: np.ndarray) -> np.ndarray:
        with context():
            return np.asarray(method(matrix))

    return ServedModel(version, model, schema, raw, classes)


def _load_xgboost(version: ModelVersion, artifact: bytes) -> ServedModel:
    import xgboost

    booster = xgboost.Booster()
    booster.load_model(bytearray(artifact))
    booster.set_param({"nthread": 1})
    schema = _schema_for(version, booster.feature_names, booster.num_features(), True)

    def raw(matrix: np.ndarray) -> np.ndarray:
        return np.asarray(booster.inplace_predict(matrix, validate_features=False))

    return ServedModel(version, booster, schema, raw, version.output.get("classes"))


def _load_lightgbm(version: ModelVersion, artifact: bytes) -> ServedModel:
    import lightgbm

    booster = lightgbm.Booster(model_str=artifact.decode("utf-8"))
    names = booster.feature_name()
    default_names = all(n == f"Column_{i}" for i, n in enumerate(names))
    schema = _schema_for(version, None if default_names else names, booster.num_feature(), True)

    def raw(matrix: np.ndarray) -> np.ndarray:
        return np.asarray(booster.predict(matrix, num_threads=1))

    return ServedModel(version, booster, schema, raw, version.output.get("classes"))


_LOADERS: dict[str, Callable[[ModelVersion, bytes], ServedModel]] = {
    "sklearn": _load_sklearn,
    "xgboost": _load_xgboost,
    "lightgbm": _load_lightgbm,
}


def framework_for_artifact(file_name: str) -> str | None:
    """The framework whose artifact is called `file_name` (container mode, no metadata)."""
    for framework, names in ARTIFACTS.items():
        if file_name in names:
            return framework
    return None
