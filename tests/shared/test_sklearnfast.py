"""Linear scikit-learn models compiled to numpy (shared/sklearnfast.py): the same answers as
scikit-learn on data the probe never saw, anything else left to scikit-learn, and the stored
form served by a process that never imports scikit-learn."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys

import joblib
import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris, load_wine
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import Lasso, LinearRegression, LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from shared import sklearnfast
from shared.modelruntime import load
from shared.modelschema import InputSchema
from shared.registry import ModelVersion


def _cases():
    cancer, iris, wine, diabetes = (
        load_breast_cancer(),
        load_iris(),
        load_wine(),
        load_diabetes(),
    )
    strings = np.array(["no", "yes"])[cancer.target]
    return [
        (make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000)), cancer, None),
        (make_pipeline(StandardScaler(), LogisticRegression()), iris, None),
        (LogisticRegression(max_iter=5000), wine, None),
        (
            make_pipeline(StandardScaler(), StandardScaler(with_mean=False), LogisticRegression()),
            wine,
            None,
        ),
        (make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000)), cancer, strings),
        (make_pipeline(StandardScaler(), LinearRegression()), diabetes, None),
        (Ridge(), diabetes, None),
        (Lasso(alpha=0.1), diabetes, None),
    ]


@pytest.mark.parametrize("index", range(8))
def test_compiled_answers_are_scikit_learns_on_unseen_rows(index):
    model, data, labels = _cases()[index]
    X = data.data
    model.fit(X[::2], (labels if labels is not None else data.target)[::2])
    unseen = np.vstack([X[1::2], X[1::2] * 1.7 - 3])  # held out, and far outside
    methods = ["predict"] + (["predict_proba"] if hasattr(model, "predict_proba") else [])
    for method in methods:
        found = sklearnfast.compile_model(model, method, X.shape[1])
        assert found is not None, method
        expected, got = getattr(model, method)(unseen), found[0](unseen)
        if got.dtype.kind == "f":
            assert np.allclose(got, expected, rtol=1e-9, atol=1e-12)
        else:  # labels
            assert np.array_equal(got, expected)
        assert got.shape == expected.shape


def test_other_models_stay_with_scikit_learn():
    data = load_iris()
    for model in (
        RandomForestClassifier(n_estimators=3).fit(data.data, data.target),
        make_pipeline(MinMaxScaler(), LogisticRegression()).fit(data.data, data.target),
    ):
        assert sklearnfast.compile_model(model, "predict", 4) is None


def test_the_stored_form_is_bound_to_its_artifact():
    data = load_breast_cancer()
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000)).fit(
        data.data, data.target
    )
    _, spec = sklearnfast.compile_model(model, "predict_proba", 30)
    stored = sklearnfast.dumps(spec, "a" * 64)
    assert sklearnfast.loads(stored, "b" * 64) is None
    assert sklearnfast.loads(b"not an npz", "a" * 64) is None
    predict, _ = sklearnfast.loads(stored, "a" * 64)
    assert np.allclose(predict(data.data), model.predict_proba(data.data), rtol=1e-9)


def test_a_process_serves_the_stored_form_without_importing_scikit_learn(tmp_path):
    data = load_breast_cancer()
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000)).fit(
        data.data, data.target
    )
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    artifact = buffer.getvalue()
    version = ModelVersion(
        name="m",
        version="1",
        framework="sklearn",
        artifact="model.joblib",
        output={"kind": "classification"},
        schema=InputSchema.numeric_features([f"f{i}" for i in range(30)]),
    )
    served = load(version, artifact)
    assert served.compiled is not None
    (tmp_path / "model.joblib").write_bytes(artifact)
    (tmp_path / "linear.npz").write_bytes(served.compiled)
    (tmp_path / "version.json").write_text(json.dumps(version.to_json()))
    np.save(tmp_path / "rows.npy", data.data[:20])
    code = f"""
import json, sys, numpy as np
from pathlib import Path
from shared.modelruntime import load
from shared.registry import ModelVersion
d = Path({str(tmp_path)!r})
served = load(ModelVersion.from_json(json.loads((d / "version.json").read_text())),
              (d / "model.joblib").read_bytes(), (d / "linear.npz").read_bytes())
out = served.predict(np.load(d / "rows.npy"))
imported = "sklearn" in sys.modules
native = type(served.native).__name__
print(json.dumps({{"out": out, "imported": imported, "native": native}}))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    answer = json.loads(done.stdout)
    assert answer["imported"] is False  # before `native` was asked for
    assert answer["native"] == "Pipeline"
    expected = served.predict(data.data[:20])
    assert [row["classes"] for row in answer["out"]] == [row["classes"] for row in expected]
    for got, want in zip(answer["out"], expected, strict=True):
        assert np.allclose(got["scores"], want["scores"], rtol=1e-12)
    assert hashlib.sha256(artifact).hexdigest()  # the binding the stored form carries
