"""Feature attributions for `:explain`, per model family, each as exact as it can be.

- scikit-learn linear models (an estimator with `coef_`, alone or after scalers in a Pipeline):
  exact, w_j * (x_j - b_j) with w the effective coefficients and b the training means from the
  metadata baseline. Explains the regression value, or a classifier's decision function
  (log-odds): of class 1 when binary, of the predicted class otherwise.
- scikit-learn trees (DecisionTree, RandomForest, ExtraTrees, GradientBoosting, not inside a
  Pipeline): exact path-dependent TreeSHAP (`treeshap.py`), branching exactly as scikit-learn
  does (instances in float32, NaN where the node sends it). Explains the regression value, a
  forest's probability of the predicted class, gradient boosting's log-odds. The baseline is
  the trees' expected output over their training samples.
- XGBoost and LightGBM: the booster's own TreeSHAP (`pred_contribs` / `pred_contrib`) on the
  margin (log-odds for logistic objectives, the value for regression), which the served
  probability is the sigmoid (softmax) of; baseline the expected margin over the training
  data.
- anything else: sampled Shapley over `path_count` random feature orderings, as Vertex AI's
  `sampledShapleyAttribution`, on the predicted class's probability (or the value), from the
  training means and most frequent categories.

`instanceOutputValue` is always the model's own output for the explained class (the value the
served prediction comes from, not a re-computation), so an explanation cannot disagree with
its `predictions`. Exact methods report as `approximationError` the float rounding left between
baseline + attributions and that output: ~1e-16 for scikit-learn and LightGBM, ~1e-6 for
XGBoost (which sums in float32).
Sampled Shapley's attributions always add up to the output difference exactly; its
`approximationError` is the standard error of the per-feature estimates over the sampled paths
(root of the summed variances / path count).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from services.prediction import treeshap
from shared.errors import unimplemented
from shared.modelruntime import ServedModel
from shared.modelschema import baseline_means

_AFFINE_STEPS = ("StandardScaler", "MinMaxScaler", "MaxAbsScaler", "RobustScaler")
_TREE_MODELS = (
    "DecisionTreeRegressor", "DecisionTreeClassifier", "ExtraTreeRegressor",
    "ExtraTreeClassifier", "RandomForestRegressor", "RandomForestClassifier",
    "ExtraTreesRegressor", "ExtraTreesClassifier", "GradientBoostingRegressor",
    "GradientBoostingClassifier",
)  # fmt: skip


@dataclasses.dataclass
class Attribution:
    """One instance's attributions, in the shape of Vertex AI's `Attribution`."""

    baseline_output: float
    instance_output: float
    features: list[float]
    output_name: str
    output_index: int | None = None
    output_display_name: str | None = None
    approximation_error: float = 0.0

    def to_json(self, names: list[str]) -> dict[str, Any]:
        data: dict[str, Any] = {
            "baselineOutputValue": self.baseline_output,
            "instanceOutputValue": self.instance_output,
            "featureAttributions": dict(zip(names, self.features, strict=True)),
            "approximationError": self.approximation_error,
            "outputName": self.output_name,
        }
        if self.output_index is not None:
            data["outputIndex"] = [self.output_index]
        if self.output_display_name is not None:
            data["outputDisplayName"] = self.output_display_name
        return data


def explain(
    served: ServedModel, matrix: np.ndarray, path_count: int = 10, seed: int = 0
) -> list[Attribution]:
    """Attributions for each row of `matrix` (already validated against the schema)."""
    if served.framework == "xgboost":
        return _xgboost(served, matrix)
    if served.framework == "lightgbm":
        return _lightgbm(served, matrix)
    model = served.native
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    if type(final).__name__ in _TREE_MODELS and model is final and served.schema.numeric:
        return _sklearn_trees(served, matrix)
    if _is_affine(model) and served.schema.numeric:
        return _linear(served, matrix)
    return sampled_shapley(served, matrix, path_count, seed)


def _class_name(served: ServedModel, index: int) -> str | None:
    if served.classes is None or index >= len(served.classes):
        return None
    return str(served.classes[index])


# -- boosters: their own TreeSHAP ---------------------------------------------------------


def _from_contribs(
    served: ServedModel, contribs: np.ndarray, margins: np.ndarray
) -> list[Attribution]:
    """`contribs`: (n, d + 1) or (n, k, d + 1), the last column the bias; `margins`: the
    booster's own raw output, (n,) or (n, k), which `instanceOutputValue` reports."""
    output_name = "value" if served.kind == "regression" else "margin"
    margins = margins.reshape(contribs.shape[0], -1)
    out = []
    for row, margin in zip(contribs, margins, strict=True):
        index: int | None = None
        value = float(margin[0])
        if row.ndim == 2:  # one row per class: explain the predicted (highest margin) class
            index = int(margin.argmax())
            row, value = row[index], float(margin[index])
        elif served.kind != "regression":
            index = 1  # a binary booster's margin is class 1's log-odds
        total = float(np.sum(row, dtype=np.float64))
        out.append(
            Attribution(
                baseline_output=float(row[-1]),
                instance_output=value,
                features=row[:-1].astype(np.float64).tolist(),
                output_name=output_name,
                output_index=index,
                output_display_name=None if index is None else _class_name(served, index),
                # XGBoost sums its contributions in float32: ~1e-6 of rounding is left.
                approximation_error=abs(total - value),
            )
        )
    return out


def _xgboost(served: ServedModel, matrix: np.ndarray) -> list[Attribution]:
    import xgboost

    booster = served.native
    data = xgboost.DMatrix(matrix, feature_names=booster.feature_names)
    contribs = np.asarray(booster.predict(data, pred_contribs=True))
    margins = np.asarray(
        booster.inplace_predict(matrix, predict_type="margin", validate_features=False)
    )
    return _from_contribs(served, contribs, margins)


def _lightgbm(served: ServedModel, matrix: np.ndarray) -> list[Attribution]:
    booster = served.native
    contribs = np.asarray(booster.predict(matrix, pred_contrib=True, num_threads=1))
    margins = np.asarray(booster.predict(matrix, raw_score=True, num_threads=1))
    width = matrix.shape[1] + 1
    if contribs.shape[1] > width:  # multiclass: k blocks of d + 1 side by side
        contribs = contribs.reshape(contribs.shape[0], -1, width)
    return _from_contribs(served, contribs, margins)


# -- scikit-learn trees: our TreeSHAP -----------------------------------------------------


def _sklearn_trees(served: ServedModel, matrix: np.ndarray) -> list[Attribution]:
    model = served.native
    name = type(model).__name__
    boosting = name.startswith("GradientBoosting")
    classifier = hasattr(model, "classes_")
    # The trees branch on float32 values (treeshap.as_sklearn_input); so does every call below.
    rows = treeshap.as_sklearn_input(matrix)
    out = []
    for x in rows:
        output: int | None = None
        if boosting:
            raw = model.decision_function if classifier else model.predict
            margins = np.atleast_1d(np.asarray(raw(x[None]), dtype=float)[0])
            if classifier:
                output = int(margins.argmax()) if margins.size > 1 else 1
            column = 0 if output is None or margins.size == 1 else output
            trees = [treeshap.from_sklearn(t) for t in model.estimators_[:, column]]
            scale = model.learning_rate
            served_value = float(margins[column])
            # The initial estimator's constant (the prior's log-odds, or the mean).
            offset = served_value - scale * sum(t.predict(x) for t in trees)
        else:
            estimators = getattr(model, "estimators_", [model])
            if classifier:
                probabilities = np.asarray(model.predict_proba(x[None]), dtype=float)[0]
                output = int(probabilities.argmax())
                served_value = float(probabilities[output])
            else:
                served_value = float(np.asarray(model.predict(x[None]), dtype=float).ravel()[0])
            trees = [treeshap.from_sklearn(e, output or 0) for e in estimators]
            scale = 1.0 / len(trees)
            offset = 0.0
        phi = np.zeros(matrix.shape[1])
        for tree in trees:
            treeshap.shap_values(tree, x, phi, scale)
        base = offset + scale * sum(t.expected_value() for t in trees)
        out.append(
            Attribution(
                baseline_output=float(base),
                instance_output=served_value,
                features=phi.tolist(),
                output_name="margin"
                if boosting and classifier
                else ("probability" if classifier else "value"),
                output_index=output,
                output_display_name=None if output is None else _class_name(served, output),
                # What float rounding leaves between the sum and the model's own output.
                approximation_error=abs(float(base + phi.sum()) - served_value),
            )
        )
    return out


# -- linear models: exact -----------------------------------------------------------------


def _is_affine(model: Any) -> bool:
    steps = [s for _, s in model.steps] if hasattr(model, "steps") else [model]
    *transforms, final = steps
    return (
        hasattr(final, "coef_")
        and hasattr(final, "intercept_")
        and all(
            step is None or step == "passthrough" or type(step).__name__ in _AFFINE_STEPS
            for step in transforms
        )
    )


def _linear(served: ServedModel, matrix: np.ndarray) -> list[Attribution]:
    """An affine f has f(x) - f(b) = sum_j w_j (x_j - b_j), where w_j = f(b + e_j) - f(b):
    the effective coefficients, through any scalers before the linear model."""
    model = served.native
    function = model.decision_function if hasattr(model, "decision_function") else model.predict
    baseline = np.asarray(baseline_means(served.version.baseline, served.schema), dtype=float)
    probes = np.vstack([baseline, baseline + np.eye(baseline.shape[0])])
    values = np.asarray(function(probes), dtype=float).reshape(probes.shape[0], -1)
    weights = values[1:] - values[0]  # (d, outputs)
    instance_values = np.asarray(function(matrix), dtype=float).reshape(matrix.shape[0], -1)
    classifier = hasattr(model, "classes_")
    out = []
    for x, outputs in zip(matrix, instance_values, strict=True):
        column = int(outputs.argmax()) if outputs.size > 1 else 0
        index = (column if outputs.size > 1 else 1) if classifier else None
        features = weights[:, column] * (x - baseline)
        out.append(
            Attribution(
                baseline_output=float(values[0, column]),
                instance_output=float(outputs[column]),
                features=features.tolist(),
                output_name="margin" if classifier else "value",
                output_index=index,
                output_display_name=None if index is None else _class_name(served, index),
                approximation_error=abs(
                    float(features.sum()) - float(outputs[column] - values[0, column])
                ),
            )
        )
    return out


# -- everything else: sampled Shapley -----------------------------------------------------


def sampled_shapley(
    served: ServedModel, matrix: np.ndarray, path_count: int, seed: int = 0
) -> list[Attribution]:
    """Permutation sampling: along each random ordering the features switch one by one from
    the baseline to the instance; each switch's output change is that feature's share."""
    model = served.native
    probability = hasattr(model, "predict_proba") and served.kind != "regression"
    if served.kind != "regression" and not probability:
        raise unimplemented(
            f"{type(model).__name__} has no predict_proba, so its class predictions have no "
            "numeric output to attribute; register it with output kind 'regression' to "
            "explain its raw predict() value."
        )
    baseline = np.array(
        [baseline_means(served.version.baseline, served.schema)], dtype=matrix.dtype
    )
    rng = np.random.default_rng(seed)
    d = matrix.shape[1]
    out = []
    for x in matrix:
        output: int | None = None
        if probability:
            output = int(np.asarray(model.predict_proba(x[None]))[0].argmax())
        orders = [rng.permutation(d) for _ in range(path_count)]
        rows = []
        for order in orders:
            current = baseline[0].copy()
            rows.append(current.copy())
            for feature in order:
                current[feature] = x[feature]
                rows.append(current.copy())
        values = _output(model, np.array(rows, dtype=matrix.dtype), output)
        values = values.reshape(path_count, d + 1)
        shares = np.zeros((path_count, d))
        for p, order in enumerate(orders):
            shares[p, order] = np.diff(values[p])
        mean = shares.mean(axis=0)
        error = (
            float(np.sqrt((shares.var(axis=0, ddof=1) / path_count).sum()))
            if (path_count > 1)
            else 0.0
        )
        out.append(
            Attribution(
                baseline_output=float(values[0, 0]),
                instance_output=float(values[0, -1]),
                features=mean.tolist(),
                output_name="probability" if probability else "value",
                output_index=output,
                output_display_name=None if output is None else _class_name(served, output),
                approximation_error=error,
            )
        )
    return out


def _output(model: Any, rows: np.ndarray, output: int | None) -> np.ndarray:
    if output is None:
        return np.asarray(model.predict(rows), dtype=float)
    return np.asarray(model.predict_proba(rows), dtype=float)[:, output]
