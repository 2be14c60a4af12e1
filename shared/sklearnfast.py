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
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

Predict = Callable[[np.ndarray], np.ndarray]
_REGRESSORS = ("LinearRegression", "Ridge", "Lasso", "ElasticNet")


def compile_model(model: Any, method: str, width: int) -> Predict | None:
    """A numpy function equal to `getattr(model, method)` (`predict` or `predict_proba`) on
    finite float64 matrices of `width` columns, or None."""
    try:
        compiled = _compile(model, method)
    except (AttributeError, TypeError, ValueError):
        return None
    if compiled is None or not _agrees(model, method, compiled, width):
        return None
    return compiled


def _compile(model: Any, method: str) -> Predict | None:
    steps = [s for _, s in getattr(model, "steps", [("", model)]) if s not in (None, "passthrough")]
    if not steps:
        return None
    *transforms, final = steps
    scalers = [_scaler(step) for step in transforms]
    if any(scaler is None for scaler in scalers):
        return None
    head = _chain([s for s in scalers if s is not None])
    name = type(final).__name__
    if name == "LogisticRegression":
        tail = _logistic(final, method)
    elif name in _REGRESSORS and method == "predict":
        tail = _linear(final)
    else:
        return None
    if tail is None:
        return None
    return lambda matrix: tail(head(matrix))


def _scaler(step: Any) -> Predict | None:
    if type(step).__name__ != "StandardScaler":
        return None
    mean = step.mean_ if step.with_mean else None
    scale = step.scale_ if step.with_std else None

    def transform(matrix: np.ndarray) -> np.ndarray:
        if mean is not None:
            matrix = matrix - mean
        if scale is not None:
            matrix = matrix / scale
        return matrix

    return transform


def _chain(transforms: list[Predict]) -> Predict:
    def apply(matrix: np.ndarray) -> np.ndarray:
        for transform in transforms:
            matrix = transform(matrix)
        return matrix

    return apply


def _logistic(final: Any, method: str) -> Predict | None:
    coef = np.asarray(final.coef_, dtype=np.float64)
    intercept = np.asarray(final.intercept_, dtype=np.float64)
    classes = np.asarray(final.classes_)
    if coef.ndim != 2 or len(classes) < 2:
        return None
    binary = len(classes) == 2
    coef_t = np.ascontiguousarray(coef.T)

    def decision(matrix: np.ndarray) -> np.ndarray:
        scores = matrix @ coef_t + intercept
        return scores.ravel() if binary else scores

    if method == "predict":
        if binary:
            return lambda matrix: classes[(decision(matrix) > 0).astype(np.intp)]
        return lambda matrix: classes[decision(matrix).argmax(axis=1)]
    if method != "predict_proba":
        return None

    def proba(matrix: np.ndarray) -> np.ndarray:
        scores = decision(matrix)
        if binary:
            positive = 1.0 / (1.0 + np.exp(-scores))
            return np.stack([1 - positive, positive], axis=1)
        scores = scores - scores.max(axis=1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=1, keepdims=True)
        return scores

    return proba


def _linear(final: Any) -> Predict | None:
    coef = np.asarray(final.coef_, dtype=np.float64)
    intercept = np.asarray(final.intercept_, dtype=np.float64)
    coef_t = np.ascontiguousarray(coef.T)
    return lambda matrix: matrix @ coef_t + intercept


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
