"""Small models trained in the tests (each in well under a second), and their data."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np


@dataclasses.dataclass
class Trained:
    model: Any
    X: np.ndarray
    names: list[str]
    kind: str = "regression"
    classes: list[Any] | None = None
    types: list[str] | None = None


def cancer_logistic(c: float = 1.0) -> Trained:
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    data = load_breast_cancer()
    model = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=2000))
    model.fit(data.data, data.target)
    names = [n.replace(" ", "_") for n in data.feature_names]
    return Trained(model, data.data, names, "classification", ["malignant", "benign"])


def cancer_xgboost() -> Trained:
    import xgboost
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    model = xgboost.XGBClassifier(n_estimators=20, max_depth=3, n_jobs=1, random_state=0)
    model.fit(data.data, data.target)
    names = [n.replace(" ", "_") for n in data.feature_names]
    return Trained(model, data.data, names, "classification", ["malignant", "benign"])


def diabetes_lightgbm() -> Trained:
    import lightgbm
    from sklearn.datasets import load_diabetes

    data = load_diabetes()
    model = lightgbm.LGBMRegressor(n_estimators=20, num_leaves=8, n_jobs=1, verbose=-1)
    model.fit(data.data, data.target)
    return Trained(model, data.data, list(data.feature_names), "regression")


def iris_lightgbm_multiclass() -> Trained:
    import lightgbm
    from sklearn.datasets import load_iris

    data = load_iris()
    model = lightgbm.LGBMClassifier(n_estimators=10, num_leaves=4, n_jobs=1, verbose=-1)
    model.fit(data.data, data.target)
    names = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    return Trained(model, data.data, names, "classification", list(data.target_names))


def iris_forest() -> Trained:
    from sklearn.datasets import load_iris
    from sklearn.ensemble import RandomForestClassifier

    data = load_iris()
    model = RandomForestClassifier(n_estimators=10, max_depth=4, random_state=0)
    model.fit(data.data, data.target)
    names = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    return Trained(model, data.data, names, "classification", list(data.target_names))


def mixed_types() -> Trained:
    """A Pipeline with a categorical feature (one-hot) and an integer one: label output."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    rng = np.random.default_rng(0)
    n = 300
    colour = rng.choice(["red", "green", "blue"], n)
    size = rng.normal(10, 3, n)
    count = rng.integers(0, 5, n).astype(float)
    y = ((colour == "red") & (size > 9)) | (count > 3)
    X = np.empty((n, 3), dtype=object)
    X[:, 0], X[:, 1], X[:, 2] = colour, size, count
    model = make_pipeline(
        ColumnTransformer(
            [
                ("colour", OneHotEncoder(handle_unknown="ignore"), [0]),
                ("numbers", StandardScaler(), [1, 2]),
            ]
        ),
        LogisticRegression(),
    )
    model.fit(X, y.astype(int))
    return Trained(
        model, X, ["colour", "size", "count"], "label", None, ["string", "double", "integer"]
    )
