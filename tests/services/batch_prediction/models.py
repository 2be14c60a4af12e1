"""Small models trained in the test process, and their registration in the registry."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import joblib
import numpy as np
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from shared.modelschema import InputSchema
from shared.registry import ModelVersion, Registry

N_FEATURES = 8
NAMES = [f"f{i}" for i in range(N_FEATURES)]


def data(rows: int, seed: int = 0, features: int = N_FEATURES) -> np.ndarray:
    return np.round(np.random.default_rng(seed).normal(size=(rows, features)), 4)


def logistic(features: int = N_FEATURES) -> Any:
    X = data(400, seed=1, features=features)
    y = (X[:, 0] + 0.5 * X[:, 1] - X[:, 2] > 0).astype(int)
    return make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)


def linear(features: int = N_FEATURES) -> Any:
    X = data(200, seed=2, features=features)
    return LinearRegression().fit(X, X @ np.arange(1, features + 1))


def register(
    registry: Registry,
    name: str,
    model: Any,
    *,
    kind: str,
    names: Sequence[str] = NAMES,
    aliases: Sequence[str] = ("champion",),
) -> ModelVersion:
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    version = registry.register(
        ModelVersion(
            name=name,
            version="",
            framework="sklearn",
            artifact="model.joblib",
            output={"kind": kind},
            schema=InputSchema.numeric_features(list(names)),
        ),
        buffer.getvalue(),
    )
    for alias in aliases:
        registry.set_alias(name, alias, version.version)
    return version
