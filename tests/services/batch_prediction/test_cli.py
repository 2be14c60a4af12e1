"""`mlapi batch` (local/batch_cli.py) through click's CliRunner, against the running service."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from local.batch_cli import batch
from tests.services.batch_prediction import models
from tests.services.batch_prediction.conftest import (
    DATA,
    OUT,
    jsonl,
    service_env,
    start_service,
    unique,
    upload,
)


@pytest.fixture(scope="module")
def service(tmp_path_factory, bp):
    process = start_service(tmp_path_factory, service_env(bp.emulator), "bp-cli")
    yield process
    process.stop()


@pytest.fixture
def cli(service):
    env = {"MLAPI_BATCH_URL": service.url, "GOOGLE_CLOUD_PROJECT": "test-project"}
    return lambda *args: CliRunner().invoke(batch, list(args), env=env, catch_exceptions=False)


def test_submit_watch_and_list(bp, cli):
    source = f"gs://{DATA}/{unique('cli')}.jsonl"
    upload(bp.gcs, source, jsonl(models.data(800, seed=41).tolist()) + b"bad\n")

    submitted = cli(
        "submit", "--model", "clf@champion", "--input", source, "--output", f"gs://{OUT}/cli"
    )
    assert submitted.exit_code == 0, submitted.output
    name = submitted.output.strip()
    assert name.startswith("projects/test-project/locations/us-central1/batchPredictionJobs/")

    watched = cli("watch", name.rsplit("/", 1)[-1], "--interval", "0.1")
    assert watched.exit_code == 0, watched.output
    assert "JOB_STATE_SUCCEEDED (800 ok, 1 failed)" in watched.output
    assert f"output: gs://{OUT}/cli/prediction-clf-" in watched.output

    listed = cli("list", "--state", "JOB_STATE_SUCCEEDED", "--page-size", "1")
    assert listed.exit_code == 0, listed.output
    assert name.rsplit("/", 1)[-1] + "\tJOB_STATE_SUCCEEDED\t800 ok, 1 failed" in listed.output


def test_watch_exits_1_for_a_failed_job_and_errors_are_readable(bp, cli):
    source = f"gs://{DATA}/{unique('empty')}.jsonl"
    upload(bp.gcs, source, b"")
    submitted = cli(
        "submit", "--model", "clf", "--input", source, "--output", f"gs://{OUT}/cli", "--watch"
    )
    assert submitted.exit_code == 1
    assert "JOB_STATE_FAILED" in submitted.output
    assert "no instances" in submitted.output

    missing = cli("submit", "--model", "ghost", "--input", source, "--output", f"gs://{OUT}/x")
    assert missing.exit_code == 1
    assert "404" in missing.output
    assert "ghost" in missing.output
