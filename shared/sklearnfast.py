"""Linear scikit-learn models compiled at load into a few numpy operations.

scikit-learn spends ~0.2 ms a call on small inputs validating them (`check_array`, estimator
tags, the pipeline's dispatch) even with `assume_finite` and `skip_parameter_validation`:
ten times the arithmetic of a scaler and a logistic regression on one row. The service has
already checked the instances against the schema (a finite float64 matrix), so for the
models whose prediction is plain linear algebra the arithmetic is done here:

- any number of `StandardScaler` steps (or `"passthrough"`), then
- `LogisticRegression` (`predict` and `predict_proba`: binary by the logistic function,
  multinomial by softmax) or a linear regressor with `coef_` and `intercept_`
  (`LinearRegression`, `Ridge`, `Lasso`, `ElasticNet`).

`compile_model` returns None for anything else, and for any model whose compiled answers
differ from scikit-learn's own on a probe matrix (labels exactly, numbers to 1e-9 relative):
then scikit-learn predicts, as before. The probe runs once, at load.

The compiled model is plain arrays (`Spec`), stored beside the version as `linear.npz`
(`dumps`, loaded with `allow_pickle=False`, bound to the artifact's sha256): a process that
finds it serves the version without importing scikit-learn (1.8 s of imports, most of a
cold start); the artifact itself is unpickled only when something needs the estimator
(explanations).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import numpy as np

Predict = Callable[[np.ndarray], np.ndarray]
Spec = dict[str, np.ndarray]  # the model as plain arrays: what `build` needs, what is stored
_REGRESSORS = ("LinearRegression", "Ridge", "Lasso", "ElasticNet")


def compile_model(model: Any, method: str, width: int) -> tuple[Predict, Spec] | None:
    """A numpy function equal to `getattr(model, method)` (`predict` or `predict_proba`) on
    finite float64 matrices of `width` columns, and the arrays it is built from; or None."""
    try:
        spec = _spec(model, method)
        compiled = build(spec) if spec is not None else None
    except (AttributeError, TypeError, ValueError):
        return None
    if compiled is None or not _agrees(model, method, compiled, width):
        return None
    return compiled, spec


def _spec(model: Any, method: str) -> Spec | None:
    steps = [s for _, s in getattr(model, "steps", [("", model)]) if s not in (None, "passthrough")]
    if not steps:
        return None
    *transforms, final = steps
    spec: Spec = {"method": np.array(method)}
    for index, step in enumerate(transforms):
        if type(step).__name__ != "StandardScaler":
            return None
        if step.with_mean and step.mean_ is not None:
            spec[f"mean{index}"] = np.asarray(step.mean_, dtype=np.float64)
        if step.with_std and step.scale_ is not None:
            spec[f"scale{index}"] = np.asarray(step.scale_, dtype=np.float64)
    spec["steps"] = np.array(len(transforms))
    name = type(final).__name__
    if name == "LogisticRegression" and method in ("predict", "predict_proba"):
        classes = np.asarray(final.classes_)
        if classes.dtype.kind not in "biufU" or len(classes) < 2:
            return None  # object labels cannot be stored without pickle
        spec["classes"] = classes
        spec["kind"] = np.array("logistic")
    elif name in _REGRESSORS and method == "predict":
        spec["kind"] = np.array("linear")
    else:
        return None
    spec["coef"] = np.asarray(final.coef_, dtype=np.float64)
    spec["intercept"] = np.asarray(final.intercept_, dtype=np.float64)
    return spec


def build(spec: Spec) -> Predict | None:
    """The prediction function of a spec (from `compile_model` or `loads`)."""
    transforms = []
    for index in range(int(spec["steps"])):
        transforms.append((spec.get(f"mean{index}"), spec.get(f"scale{index}")))

    def head(matrix: np.ndarray) -> np.ndarray:
        for mean, scale in transforms:
            if mean is not None:
                matrix = matrix - mean
            if scale is not None:
                matrix = matrix / scale
        return matrix

    kind, method = str(spec["kind"]), str(spec["method"])
    coef_t = np.ascontiguousarray(spec["coef"].T)
    intercept = spec["intercept"]
    if kind == "linear":
        return lambda matrix: head(matrix) @ coef_t + intercept
    tail = _logistic(coef_t, intercept, spec["classes"], method)
    if tail is None:
        return None
    return lambda matrix: tail(head(matrix))


def dumps(spec: Spec, artifact_sha256: str) -> bytes:
    """The spec as an `.npz` file, bound to the artifact it was compiled from."""
    buffer = io.BytesIO()
    np.savez(buffer, artifact_sha256=np.array(artifact_sha256), **spec)
    return buffer.getvalue()


def loads(data: bytes, artifact_sha256: str) -> tuple[Predict, Spec] | None:
    """The prediction function stored by `dumps` and its spec, if it was compiled from this
    artifact."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as stored:
            spec = {key: stored[key] for key in stored.files}
        if str(spec.pop("artifact_sha256")) != artifact_sha256:
            return None
        compiled = build(spec)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return (compiled, spec) if compiled is not None else None


def _logistic(
    coef_t: np.ndarray, intercept: np.ndarray, classes: np.ndarray, method: str
) -> Predict | None:
    if coef_t.ndim != 2:
        return None
    binary = len(classes) == 2

    def decision(matrix: np.ndarray) -> np.ndarray:
        scores = matrix @ coef_t + intercept
        return scores.ravel() if binary else scores

    if method == "predict":
        if binary:
            return lambda matrix: classes[(decision(matrix) > 0).astype(np.intp)]
        return lambda matrix: classes[decision(matrix).argmax(axis=1)]

    def proba(matrix: np.ndarray) -> np.ndarray:
        scores = decision(matrix)
        if binary:
            with np.errstate(over="ignore"):  # exp overflows to inf: probability 0
                positive = 1.0 / (1.0 + np.exp(-scores))
            return np.stack([1 - positive, positive], axis=1)
        scores = scores - scores.max(axis=1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=1, keepdims=True)
        return scores

    return proba


def _agrees(model: Any, method: str, compiled: Predict, width: int) -> bool:
    rng = np.random.default_rng(0)
    probe = np.vstack([np.zeros((1, width)), rng.normal(scale=3.0, size=(63, width))])
    scaler = next((s for _, s in getattr(model, "steps", []) if hasattr(s, "mean_")), None)
    if scaler is not None and scaler.mean_ is not None:  # inputs as the model saw them
        probe = probe * (scaler.scale_ if scaler.scale_ is not None else 1.0) + scaler.mean_
    try:
        expected = np.asarray(getattr(model, method)(probe))
        got = np.asarray(compiled(probe))
    except Exception:
        return False
    if expected.shape != got.shape or expected.dtype.kind != got.dtype.kind:
        return False
    if expected.dtype.kind in "fc":
        return bool(np.allclose(got, expected, rtol=1e-9, atol=1e-12))
    return bool(np.array_equal(got, expected))
