"""Explanations agree with the served model, for every tree framework, on the inputs where
they used to disagree: values equal to the trees' split thresholds (and their float32
neighbours), where a float64 comparison and the framework's own can take different branches.

Each model goes through the serving path: serialised as `mlapi models register` does, loaded
by `shared.modelruntime.load`, and its `predictions` computed by `ServedModel.predict`, as the
`:explain` response carries them.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine

from services.prediction import explain
from shared import modelruntime
from shared.modelschema import InputSchema, compute_baseline
from shared.registration import serialise_model
from shared.registry import ModelVersion


def served_as_registered(model, X, kind, classes=None, allow_missing=False):
    framework, artifact_name, artifact, _ = serialise_model(model)
    schema = InputSchema.numeric_features(
        [f"f{i}" for i in range(X.shape[1])], allow_missing=allow_missing
    )
    output = {"kind": kind} | ({"classes": classes} if classes is not None else {})
    version = ModelVersion(
        name="m",
        version="1",
        framework=framework,
        artifact=artifact_name,
        output=output,
        schema=schema,
        baseline=compute_baseline(X, schema),
    )
    return modelruntime.load(version, artifact)


def at_thresholds(X: np.ndarray, thresholds: list[tuple[int, float]], count: int = 20):
    """Training rows with one feature set to a split threshold t, to the float64 just above t,
    and to the float32 just above t: the values on either side of every comparison the trees
    make, in both precisions (a float64 value just above t can round to a float32 at or below
    it, and t itself can round above it)."""
    rows = []
    for i, (feature, t) in enumerate(thresholds[:count]):
        above32 = float(np.nextafter(np.float32(t), np.float32(np.inf)))
        for value in (t, float(np.nextafter(t, np.inf)), above32):
            row = X[(7 * i + len(rows)) % len(X)].copy()
            row[feature] = value
            rows.append(row)
    return np.array(rows)


def sklearn_thresholds(model) -> list[tuple[int, float]]:
    estimators = np.ravel(getattr(model, "estimators_", [model]))
    found = []
    for estimator in estimators:
        tree = estimator.tree_
        found += [
            (int(f), float(t)) for f, t in zip(tree.feature, tree.threshold, strict=True) if f >= 0
        ]
    return found[:: max(1, len(found) // 20)]


def served_output(served, prediction, index):
    """The served value the attribution explains: a class's score, or the value."""
    if isinstance(prediction, dict):
        return prediction["scores"][index]
    return prediction


def sklearn_cases():
    from sklearn.ensemble import (
        ExtraTreesClassifier,
        GradientBoostingClassifier,
        GradientBoostingRegressor,
        RandomForestClassifier,
        RandomForestRegressor,
    )
    from sklearn.tree import DecisionTreeClassifier

    wine, diabetes = load_wine(return_X_y=True), load_diabetes(return_X_y=True)
    cancer = load_breast_cancer(return_X_y=True)
    return {
        # The case: a forest on the wine data.
        "wine-forest": (RandomForestClassifier(30, random_state=0), wine, "classification"),
        "wine-extra-trees": (ExtraTreesClassifier(20, random_state=0), wine, "classification"),
        "wine-tree": (DecisionTreeClassifier(random_state=0), wine, "classification"),
        "diabetes-forest": (
            RandomForestRegressor(20, max_depth=6, random_state=0),
            diabetes,
            "regression",
        ),
        "cancer-boosting": (
            GradientBoostingClassifier(n_estimators=20, max_depth=3, random_state=0),
            cancer,
            "classification",
        ),
        "wine-boosting": (
            GradientBoostingClassifier(n_estimators=10, max_depth=2, random_state=0),
            wine,
            "classification",
        ),
        "diabetes-boosting": (
            GradientBoostingRegressor(n_estimators=20, max_depth=3, random_state=0),
            diabetes,
            "regression",
        ),
    }


@pytest.mark.parametrize("case", list(sklearn_cases()))
def test_sklearn_trees_sum_to_the_served_output_at_split_thresholds(case):
    model, (X, y), kind = sklearn_cases()[case]
    model.fit(X, y)
    classes = np.unique(y).tolist() if kind == "classification" else None
    served = served_as_registered(model, X, kind, classes)
    rows = at_thresholds(X, sklearn_thresholds(model))
    predictions = served.predict(rows)
    boosting_classifier = case.endswith("boosting") and kind == "classification"
    for attribution, prediction, row in zip(
        explain.explain(served, rows), predictions, rows, strict=True
    ):
        total = attribution.baseline_output + sum(attribution.features)
        if boosting_classifier:  # explains the log-odds the served probability comes from
            margins = np.atleast_1d(model.decision_function(row[None])[0])
            margin = margins[attribution.output_index] if margins.size > 1 else margins[0]
            assert attribution.instance_output == margin
        else:
            assert attribution.instance_output == served_output(
                served, prediction, attribution.output_index
            )
        assert total == pytest.approx(attribution.instance_output, abs=1e-12)
        assert attribution.approximation_error <= 1e-12


def test_sklearn_trees_send_missing_values_where_scikit_learn_does():
    from sklearn.ensemble import RandomForestRegressor

    X, y = load_diabetes(return_X_y=True)
    X = X.copy()
    rng = np.random.default_rng(0)
    X[rng.random(X.shape) < 0.2] = np.nan
    model = RandomForestRegressor(10, max_depth=5, random_state=0).fit(X, y)
    served = served_as_registered(model, X, "regression", allow_missing=True)
    rows = X[:30]
    assert np.isnan(rows).any()
    for attribution, prediction in zip(
        explain.explain(served, rows), served.predict(rows), strict=True
    ):
        assert attribution.instance_output == prediction
        total = attribution.baseline_output + sum(attribution.features)
        assert total == pytest.approx(prediction, abs=1e-9)


def xgboost_thresholds(booster) -> list[tuple[int, float]]:
    found = []

    def walk(node):
        if "split" in node:
            found.append((int(str(node["split"]).lstrip("f")), float(node["split_condition"])))
            for child in node["children"]:
                walk(child)

    for tree in booster.get_dump(dump_format="json"):
        walk(json.loads(tree))
    return found[:: max(1, len(found) // 20)]


def lightgbm_thresholds(booster) -> list[tuple[int, float]]:
    found = []

    def walk(node):
        if "split_feature" in node:
            found.append((int(node["split_feature"]), float(node["threshold"])))
            walk(node["left_child"])
            walk(node["right_child"])

    for tree in booster.dump_model()["tree_info"]:
        walk(tree["tree_structure"])
    return found[:: max(1, len(found) // 20)]


def booster_cases():
    import lightgbm
    import xgboost

    wine, diabetes = load_wine(return_X_y=True), load_diabetes(return_X_y=True)
    cancer = load_breast_cancer(return_X_y=True)
    xgb = {"n_estimators": 20, "max_depth": 3, "n_jobs": 1, "random_state": 0}
    lgb = {"n_estimators": 20, "num_leaves": 8, "n_jobs": 1, "verbose": -1}
    return {
        "xgboost-binary": (xgboost.XGBClassifier(**xgb), cancer, "classification"),
        "xgboost-multiclass": (xgboost.XGBClassifier(**xgb), wine, "classification"),
        "xgboost-regression": (xgboost.XGBRegressor(**xgb), diabetes, "regression"),
        "lightgbm-binary": (lightgbm.LGBMClassifier(**lgb), cancer, "classification"),
        "lightgbm-multiclass": (lightgbm.LGBMClassifier(**lgb), wine, "classification"),
        "lightgbm-regression": (lightgbm.LGBMRegressor(**lgb), diabetes, "regression"),
    }


def link(margins: np.ndarray) -> np.ndarray:
    """The served probabilities from margins: sigmoid for one, softmax for several."""
    if margins.ndim == 1:
        return 1 / (1 + np.exp(-margins))
    shifted = np.exp(margins - margins.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("case", list(booster_cases()))
def test_boosters_sum_to_the_served_output_at_split_thresholds(case):
    model, (X, y), kind = booster_cases()[case]
    model.fit(X, y)
    classes = np.unique(y).tolist() if kind == "classification" else None
    served = served_as_registered(model, X, kind, classes)
    xgb = case.startswith("xgboost")
    booster = model.get_booster() if xgb else model.booster_
    thresholds = xgboost_thresholds(booster) if xgb else lightgbm_thresholds(booster)
    rows = at_thresholds(X, thresholds)
    if xgb:
        margins = booster.inplace_predict(rows, predict_type="margin").astype(np.float64)
    else:
        margins = booster.predict(rows, raw_score=True)
    predictions = served.predict(rows)
    # XGBoost computes in float32 (relative rounding ~1e-7 a tree); LightGBM in float64.
    rounding = {"rel": 1e-6, "abs": 1e-6} if xgb else {"rel": 0, "abs": 1e-12}
    for i, attribution in enumerate(explain.explain(served, rows)):
        margin = margins[i] if margins.ndim == 1 else margins[i, attribution.output_index]
        assert attribution.instance_output == margin
        total = attribution.baseline_output + sum(attribution.features)
        assert total == pytest.approx(margin, **rounding)
        assert attribution.approximation_error == pytest.approx(abs(total - margin), abs=1e-9)
        if kind == "classification":
            probabilities = link(margins)[i]
            index = attribution.output_index if margins.ndim > 1 else None
            served_score = predictions[i]["scores"][1 if index is None else index]
            expected = probabilities if index is None else probabilities[index]
            assert served_score == pytest.approx(expected, abs=1e-6)
        else:
            assert predictions[i] == pytest.approx(margin, **rounding)
