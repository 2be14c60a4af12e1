"""`mlapi models register | list | alias | split` against the storage emulator, through
click's CliRunner."""

from __future__ import annotations

import csv
import uuid

import joblib
import pytest
from click.testing import CliRunner

from local.models_cli import models as main
from shared.registry import Registry
from shared.storage import Storage
from tests.services.prediction import models


@pytest.fixture
def bucket(storage_env, monkeypatch) -> str:
    name = f"cli-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("REGISTRY_BUCKET", name)
    return name


@pytest.fixture(scope="module")
def iris():
    return models.iris_forest()


@pytest.fixture
def files(tmp_path, iris):
    artifact = tmp_path / "model.joblib"
    joblib.dump(iris.model, artifact)
    data = tmp_path / "iris.csv"
    with data.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*iris.names, "species"])
        for row in iris.X:
            writer.writerow([*row, "x"])
    booster = tmp_path / "booster.json"
    models.cancer_xgboost().model.get_booster().save_model(booster)
    return artifact, data, booster


def run(_capsys, *argv: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(argv))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_register_alias_split_and_list(capsys, bucket, files, iris):
    artifact, data, booster = files
    status, out, _ = run(
        capsys,
        "register",
        "iris",
        str(artifact),
        "--create-bucket",
        "--training-data",
        str(data),
        "--label-column",
        "species",
        "--output-kind",
        "classification",
        "--classes",
        "setosa,versicolor,virginica",
        "--alias",
        "champion",
    )
    assert status == 0, out
    assert out.startswith(f"registered iris version 1 (sklearn) at gs://{bucket}/models/iris/1/")
    assert run(capsys, "register", "iris", str(artifact), "--version", "2")[0] == 0

    registry = Registry(bucket, storage=Storage("test-project"))
    first = registry.get("iris", "1")
    assert first.schema.names == iris.names
    assert first.output == {
        "kind": "classification",
        "classes": ["setosa", "versicolor", "virginica"],
    }
    assert first.baseline["count"] == 150
    assert first.baseline["features"]["sepal_length"]["mean"] == pytest.approx(iris.X[:, 0].mean())
    assert registry.read_artifact(first) == artifact.read_bytes()

    assert run(capsys, "alias", "iris", "challenger", "2") == (
        0,
        '{"challenger": "2", "champion": "1"}\n',
        "",
    )
    assert run(capsys, "split", "iris", "champion=75", "challenger=25") == (
        0,
        '{"challenger": 25, "champion": 75}\n',
        "",
    )
    status, out, _ = run(capsys, "list", "iris")
    assert status == 0
    lines = out.splitlines()
    assert lines[0].split() == ["VERSION", "FRAMEWORK", "OUTPUT", "TRAFFIC", "CREATED", "ALIASES"]
    assert lines[1].split()[:4] == ["1", "sklearn", "classification", "75%"]
    assert lines[1].split()[-1] == "champion"
    assert lines[2].split()[:4] == ["2", "sklearn", "regression", "25%"]

    status, out, _ = run(capsys, "register", "cancer", str(booster), "--allow-missing")
    assert status == 0
    assert "(xgboost)" in out
    assert Registry(bucket, storage=Storage()).get("cancer", "1").artifact == "model.json"
    assert run(capsys, "list")[1].split() == ["cancer", "iris"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["split", "iris", "1=90"], "INVALID_ARGUMENT: trafficSplit percents must sum to 100"),
        (["split", "iris", "1=50", "9=50"], "NOT_FOUND: Model 'iris' has no version or alias"),
        (["alias", "iris", "champion", "9"], "NOT_FOUND: Model 'iris' has no version '9'"),
        (["alias", "iris", "nobody", "--delete"], "NOT_FOUND: Model 'iris' has no alias"),
        (["register", "iris", "{artifact}", "--version", "1"], "ALREADY_EXISTS"),
    ],
)
def test_refusals_print_googles_status_and_exit_1(capsys, bucket, files, argv, message):
    artifact = files[0]
    assert run(capsys, "register", "iris", str(artifact), "--create-bucket")[0] == 0
    status, _, err = run(capsys, *[a.replace("{artifact}", str(artifact)) for a in argv])
    assert status == 1
    assert err.startswith(message)


def test_usage_errors_exit_2(capsys, bucket):
    assert run(capsys, "alias", "iris", "champion")[0] == 2
    assert run(capsys, "frobnicate")[0] == 2


def test_every_option_is_also_an_environment_variable(capsys, bucket, files, monkeypatch):
    monkeypatch.setenv("MLAPI_MODELS_REGISTER_VERSION", "7")
    monkeypatch.setenv("MLAPI_MODELS_REGISTER_CREATE_BUCKET", "1")
    status, out, _ = run(capsys, "register", "iris", str(files[0]))
    assert status == 0, out
    assert out.startswith(f"registered iris version 7 (sklearn) at gs://{bucket}/")
