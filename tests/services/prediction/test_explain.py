"""Attributions in-process: TreeSHAP against brute-force Shapley values, the sums every method
promises, and exact linear attributions."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import (
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    RandomForestRegressor,
)
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from services.prediction import explain, treeshap
from shared.modelruntime import ServedModel
from shared.modelschema import InputSchema, compute_baseline
from shared.registry import ModelVersion


def conditional_expectation(tree: treeshap.Tree, x, known: set[int], node: int = 0) -> float:
    """E[f(x) | x_known] under the tree's cover: the game TreeSHAP solves."""
    if tree.left[node] == -1:
        return tree.value[node]
    feature = tree.feature[node]
    left, right = tree.left[node], tree.right[node]
    if feature in known:
        child = left if x[feature] <= tree.threshold[node] else right
        return conditional_expectation(tree, x, known, child)
    return (
        tree.cover[left] * conditional_expectation(tree, x, known, left)
        + tree.cover[right] * conditional_expectation(tree, x, known, right)
    ) / tree.cover[node]


def brute_force_shapley(tree: treeshap.Tree, x, d: int) -> np.ndarray:
    phi = np.zeros(d)
    for i in range(d):
        others = [j for j in range(d) if j != i]
        for size in range(d):
            weight = math.factorial(size) * math.factorial(d - size - 1) / math.factorial(d)
            for subset in itertools.combinations(others, size):
                known = set(subset)
                phi[i] += weight * (
                    conditional_expectation(tree, x, known | {i})
                    - conditional_expectation(tree, x, known)
                )
    return phi


@pytest.mark.parametrize("depth", [1, 3, 8])
def test_treeshap_equals_brute_force_shapley(depth):
    X, y = make_regression(300, 5, random_state=depth)
    X[:, 4] = X[:, 0]  # a repeated feature exercises the unwind path
    tree = treeshap.from_sklearn(DecisionTreeRegressor(max_depth=depth, random_state=0).fit(X, y))
    for x in X[:6]:
        phi = np.zeros(5)
        treeshap.shap_values(tree, x, phi)
        np.testing.assert_allclose(phi, brute_force_shapley(tree, x, 5), atol=1e-9)
        assert tree.expected_value() + phi.sum() == pytest.approx(tree.predict(x))


def test_classifier_trees_explain_a_class_probability():
    X, y = make_classification(200, 4, n_informative=3, n_redundant=0, n_classes=3, random_state=0)
    model = DecisionTreeClassifier(max_depth=4, random_state=0).fit(X, y)
    for output in range(3):
        tree = treeshap.from_sklearn(model, output)
        x = X[7]
        phi = np.zeros(4)
        treeshap.shap_values(tree, x, phi)
        assert tree.expected_value() + phi.sum() == pytest.approx(
            model.predict_proba([x])[0, output]
        )


def served(model, X, kind="regression", classes=None) -> ServedModel:
    schema = InputSchema.numeric_features([f"f{i}" for i in range(X.shape[1])])
    version = ModelVersion(
        name="m",
        version="1",
        framework="sklearn",
        artifact="model.joblib",
        output={"kind": kind},
        schema=schema,
        baseline=compute_baseline(X, schema),
    )
    return ServedModel(version, model, schema, model.predict, classes)


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (lambda: RandomForestRegressor(8, max_depth=4, random_state=0), "regression"),
        (lambda: ExtraTreesRegressor(8, max_depth=4, random_state=0), "regression"),
        (lambda: GradientBoostingRegressor(n_estimators=15, max_depth=3), "regression"),
    ],
)
def test_sklearn_ensembles_add_up_to_the_prediction(make, kind):
    X, y = make_regression(200, 4, random_state=1)
    model = make().fit(X, y)
    for attribution, x in zip(explain.explain(served(model, X, kind), X[:4]), X[:4], strict=True):
        assert attribution.output_name == "value"
        assert attribution.instance_output == pytest.approx(model.predict([x])[0])
        assert attribution.baseline_output + sum(attribution.features) == pytest.approx(
            model.predict([x])[0]
        )


@pytest.mark.parametrize("classes", [2, 3])
def test_gradient_boosting_classifiers_explain_the_log_odds(classes):
    X, y = make_classification(
        200, 4, n_informative=3, n_redundant=0, n_classes=classes, random_state=0
    )
    model = GradientBoostingClassifier(n_estimators=10, max_depth=2).fit(X, y)
    result = explain.explain(served(model, X, "classification", list(range(classes))), X[:3])
    for attribution, x in zip(result, X[:3], strict=True):
        margins = np.atleast_1d(model.decision_function([x])[0])
        column = 0 if margins.size == 1 else attribution.output_index
        assert attribution.output_name == "margin"
        assert attribution.instance_output == pytest.approx(margins[column])
        assert attribution.baseline_output + sum(attribution.features) == pytest.approx(
            margins[column]
        )


def test_linear_regression_is_coef_times_distance_from_the_mean():
    X, y = make_regression(100, 3, random_state=2)
    model = LinearRegression().fit(X, y)
    result = explain.explain(served(model, X), X[:3])
    for attribution, x in zip(result, X[:3], strict=True):
        np.testing.assert_allclose(
            attribution.features, model.coef_ * (x - X.mean(axis=0)), rtol=1e-9, atol=1e-9
        )
        assert attribution.baseline_output == pytest.approx(model.predict([X.mean(axis=0)])[0])
        assert attribution.approximation_error < 1e-9


def test_multiclass_logistic_explains_the_predicted_class():
    X, y = make_classification(200, 4, n_informative=3, n_redundant=0, n_classes=3, random_state=0)
    model = LogisticRegression(max_iter=500).fit(X, y)
    result = explain.explain(served(model, X, "classification", ["a", "b", "c"]), X[:3])
    for attribution, x in zip(result, X[:3], strict=True):
        k = int(model.predict([x])[0])
        assert attribution.output_index == k
        assert attribution.output_display_name == "abc"[k]
        np.testing.assert_allclose(
            attribution.features, model.coef_[k] * (x - X.mean(axis=0)), rtol=1e-9, atol=1e-9
        )


def test_sampled_shapley_converges_to_exact_on_a_linear_model():
    X, y = make_regression(100, 3, random_state=3)
    model = LinearRegression().fit(X, y)
    exact = model.coef_ * (X[0] - X.mean(axis=0))
    attribution = explain.sampled_shapley(served(model, X), X[:1], path_count=6)[0]
    # For an additive model every ordering gives the exact answer.
    np.testing.assert_allclose(attribution.features, exact, rtol=1e-9, atol=1e-9)
    assert attribution.approximation_error == pytest.approx(0, abs=1e-9)


def test_class_labels_without_scores_cannot_be_explained():
    from sklearn.svm import LinearSVC

    from shared.errors import ApiError

    X, y = make_classification(100, 3, n_informative=2, n_redundant=0, random_state=0)
    model = LinearSVC().fit(X, y)
    model.coef_ = None  # not linear for the explainer's purpose: force the sampled path
    del model.coef_
    with pytest.raises(ApiError, match="has no predict_proba") as caught:
        explain.sampled_shapley(served(model, X, "label"), X[:1], path_count=2)
    assert caught.value.code.name == "UNIMPLEMENTED"
