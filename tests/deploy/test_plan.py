"""The deploy plan: complete for the topology, least privilege, and valid shell."""

from __future__ import annotations

import subprocess

import pytest

from deploy import iam, naming
from deploy.plan import DEPLOYER_ROLES, Planner, Target
from deploy.render import render_script, render_text
from deploy.topology import DEFAULT_PATH, load

PROJECT, NUMBER = "my-project", "123456789"
SA = "serviceAccount:mlapi-{}@my-project.iam.gserviceaccount.com"
PUSH = "serviceAccount:mlapi-push-invoker@my-project.iam.gserviceaccount.com"
PUBSUB_AGENT = f"serviceAccount:service-{NUMBER}@gcp-sa-pubsub.iam.gserviceaccount.com"
STORAGE_AGENT = f"serviceAccount:service-{NUMBER}@gs-project-accounts.iam.gserviceaccount.com"
BUILDER = f"serviceAccount:{NUMBER}@cloudbuild.gserviceaccount.com"

# What the shipped topology implies, written out by hand: the derivation must give exactly this.
EXPECTED = {
    ("bucket", "my-project-images", SA.format("vision"), "roles/storage.objectViewer"),
    ("bucket", "my-project-results", SA.format("vision"), "roles/storage.objectUser"),
    ("bucket", "my-project-results", SA.format("language"), "roles/storage.objectUser"),
    ("bucket", "my-project-results", SA.format("translation"), "roles/storage.objectUser"),
    ("topic", "text-ready", SA.format("vision"), "roles/pubsub.publisher"),
    ("topic", "language-done", SA.format("language"), "roles/pubsub.publisher"),
    ("topic", "translation-done", SA.format("translation"), "roles/pubsub.publisher"),
    ("project", PROJECT, SA.format("translation"), "roles/cloudtranslate.user"),
    ("bucket", "my-project-models", SA.format("prediction"), "roles/storage.objectViewer"),
    # ModelService and EndpointService write the registry.
    ("bucket", "my-project-models", SA.format("prediction"), "roles/storage.objectUser"),
    ("bucket", "my-project-results", SA.format("prediction"), "roles/storage.objectUser"),
    ("run-service", "prediction", BUILDER, "roles/run.invoker"),
    ("bucket", "my-project-models", SA.format("batch-prediction"), "roles/storage.objectViewer"),
    (
        "bucket",
        "my-project-batch-input",
        SA.format("batch-prediction"),
        "roles/storage.objectViewer",
    ),
    ("bucket", "my-project-results", SA.format("batch-prediction"), "roles/storage.objectUser"),
    ("topic", "batch-done", SA.format("batch-prediction"), "roles/pubsub.publisher"),
    ("run-service", "batch-prediction", PUSH, "roles/run.invoker"),
    ("run-service", "batch-prediction", BUILDER, "roles/run.invoker"),
    ("topic", "batch-dead-letter", PUBSUB_AGENT, "roles/pubsub.publisher"),
    ("subscription", "batch-requests-push", PUBSUB_AGENT, "roles/pubsub.subscriber"),
    ("subscription", "batch-input", PUBSUB_AGENT, "roles/pubsub.subscriber"),
    ("topic", "batch-input-finalized", STORAGE_AGENT, "roles/pubsub.publisher"),
    ("run-service", "vision", PUSH, "roles/run.invoker"),
    ("run-service", "language", PUSH, "roles/run.invoker"),
    ("run-service", "translation", PUSH, "roles/run.invoker"),
    ("run-service", "vision", BUILDER, "roles/run.invoker"),
    ("run-service", "language", BUILDER, "roles/run.invoker"),
    ("run-service", "translation", BUILDER, "roles/run.invoker"),
    (
        "service-account",
        "mlapi-push-invoker@my-project.iam.gserviceaccount.com",
        PUBSUB_AGENT,
        "roles/iam.serviceAccountTokenCreator",
    ),
    ("topic", "vision-dead-letter", PUBSUB_AGENT, "roles/pubsub.publisher"),
    ("topic", "text-dead-letter", PUBSUB_AGENT, "roles/pubsub.publisher"),
    ("subscription", "vision-images", PUBSUB_AGENT, "roles/pubsub.subscriber"),
    ("subscription", "language-text", PUBSUB_AGENT, "roles/pubsub.subscriber"),
    ("subscription", "translation-text", PUBSUB_AGENT, "roles/pubsub.subscriber"),
    ("topic", "images-finalized", STORAGE_AGENT, "roles/pubsub.publisher"),
    ("bucket", "my-project-audio", SA.format("speech"), "roles/storage.objectViewer"),
    ("bucket", "my-project-results", SA.format("speech"), "roles/storage.objectUser"),
    ("topic", "text-ready", SA.format("speech"), "roles/pubsub.publisher"),
    ("run-service", "speech", PUSH, "roles/run.invoker"),
    ("run-service", "speech", BUILDER, "roles/run.invoker"),
    ("topic", "speech-dead-letter", PUBSUB_AGENT, "roles/pubsub.publisher"),
    ("subscription", "speech-audio", PUBSUB_AGENT, "roles/pubsub.subscriber"),
    ("topic", "audio-finalized", STORAGE_AGENT, "roles/pubsub.publisher"),
    ("bucket", "my-project-documents", SA.format("documentai"), "roles/storage.objectViewer"),
    ("bucket", "my-project-results", SA.format("documentai"), "roles/storage.objectUser"),
    ("topic", "text-ready", SA.format("documentai"), "roles/pubsub.publisher"),
    ("project", PROJECT, SA.format("documentai"), "roles/documentai.apiUser"),
    ("run-service", "documentai", PUSH, "roles/run.invoker"),
    ("run-service", "documentai", BUILDER, "roles/run.invoker"),
    ("topic", "documentai-dead-letter", PUBSUB_AGENT, "roles/pubsub.publisher"),
    ("subscription", "documentai-documents", PUBSUB_AGENT, "roles/pubsub.subscriber"),
    ("topic", "documents-finalized", STORAGE_AGENT, "roles/pubsub.publisher"),
}


@pytest.fixture(scope="module")
def topology():
    return load(DEFAULT_PATH)


@pytest.fixture(scope="module")
def planner(topology):
    return Planner(topology, Target(PROJECT, "europe-west1", "mlapi", "abc1234"))


def test_bindings_are_exactly_what_the_topology_implies(topology):
    found = {
        (b.kind, b.resource, b.member, b.role) for b in iam.bindings(topology, PROJECT, NUMBER)
    }
    assert found == EXPECTED


def test_no_runtime_account_gets_a_project_wide_admin_role(topology):
    for binding in iam.bindings(topology, PROJECT, NUMBER):
        assert "admin" not in binding.role.lower(), binding


def test_a_new_read_grants_exactly_one_more_role(topology):
    vision = topology.services["vision"].model_copy(
        update={"reads": ["{project}-images", "{project}-results"]}
    )
    changed = topology.model_copy(update={"services": {**topology.services, "vision": vision}})
    before = set(iam.bindings(topology, PROJECT, NUMBER))
    after = set(iam.bindings(changed, PROJECT, NUMBER))
    [added] = after - before
    assert (added.resource, added.role) == ("my-project-results", "roles/storage.objectViewer")


def test_an_api_without_a_known_role_is_refused(topology):
    odd = topology.services["vision"].model_copy(update={"apis": ["unknown.googleapis.com"]})
    changed = topology.model_copy(update={"services": {**topology.services, "vision": odd}})
    with pytest.raises(ValueError, match="API_ROLES"):
        iam.bindings(changed, PROJECT, NUMBER)


def test_the_plan_covers_the_topology(planner, topology):
    text = render_text(planner.steps(), topology, planner.target)
    rendered = topology.render(PROJECT)
    for service in rendered.services:
        run_name = naming.run_service(service)
        assert f"service-accounts create {naming.account_id(service)}" in text
        assert f"docker build -f deploy/Dockerfile --build-arg SERVICE={service}" in text
        assert f"docker push europe-west1-docker.pkg.dev/{PROJECT}/mlapi/{run_name}:abc1234" in text
        assert f"gcloud run deploy {run_name} " in text
        assert f"gcloud run services describe {run_name} " in text  # the smoke test
    for topic in rendered.topics:
        assert f"gcloud pubsub topics create {topic} " in text
    for bucket in rendered.buckets:
        assert f"gcloud storage buckets create gs://{bucket} " in text
    for subscription in rendered.subscriptions:
        assert f"#   subscription {subscription} on " in text
    assert "python -m deploy.apply --project=my-project --region=europe-west1" in text
    phases = [step.phase for step in planner.steps()]
    assert phases == sorted(
        phases,
        key=[
            "bootstrap",
            "setup",
            "build",
            "deploy",
            "post-deploy",
            "wiring",
            "post-wiring",
            "smoke",
        ].index,
    )


def test_deployer_roles_are_only_granted_in_bootstrap(planner):
    for step in planner.steps():
        if any(f"--role={role}" in step.command for role in DEPLOYER_ROLES):
            assert step.phase == "bootstrap", step


@pytest.mark.parametrize("phase", ["bootstrap", "setup", "post-deploy", "post-wiring", "smoke"])
def test_phase_scripts_are_valid_bash(planner, phase, tmp_path):
    script = tmp_path / f"{phase}.sh"
    script.write_text(render_script([s for s in planner.steps() if s.phase == phase]))
    subprocess.run(["bash", "-n", str(script)], check=True)
    text = script.read_text()
    if "${PROJECT_NUMBER}" in text:  # set -u: a variable must be assigned before its use
        assert text.index('PROJECT_NUMBER="$(') < text.index("${PROJECT_NUMBER}")


def test_env_values_with_commas_use_gclouds_delimiter(topology):
    vision = topology.services["vision"].model_copy(
        update={
            "env": {
                **topology.services["vision"].env,
                "VISION_WORKFLOW_FEATURES": "DOCUMENT_TEXT_DETECTION,FACE_DETECTION",
            }
        }
    )
    changed = topology.model_copy(update={"services": {**topology.services, "vision": vision}})
    args = Planner(changed, Target(PROJECT, "r", "mlapi", "t")).deploy_args("vision")
    env = next(a for a in args if a.startswith("--set-env-vars="))
    assert env.startswith("--set-env-vars=^|^")
    assert "VISION_WORKFLOW_FEATURES=DOCUMENT_TEXT_DETECTION,FACE_DETECTION" in env


def test_cloud_env_is_set_by_the_deploy_and_not_by_the_local_stack(topology):
    batch = topology.services["batch_prediction"]
    assert batch.cloud_env == {"SCORING_PROCESSES": "2"}  # one per vCPU it asks for
    assert batch.resources.cpu == 2
    args = Planner(topology, Target(PROJECT, "r", "mlapi", "t")).deploy_args("batch_prediction")
    env = next(a for a in args if a.startswith("--set-env-vars="))
    assert "SCORING_PROCESSES=2" in env
    assert "SCORING_PROCESSES" not in batch.env  # what `mlapi up` passes


def test_make_deploy_plan_prints_without_a_google_account():
    result = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "deploy-plan",
            "PROJECT=my-project",
            "REGION=europe-west1",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=DEFAULT_PATH.parent.parent,
    )
    assert "gcloud run deploy vision" in result.stdout
    assert result.stdout.count("## ") == 8  # every phase


def test_the_local_vertex_host_is_not_deployed_and_the_plan_says_so(planner, topology):
    text = render_text(planner.steps(), topology, planner.target)
    assert "vertex" in topology.hosts
    note = next(
        line for line in text.splitlines() if line.startswith("# Not deployed: host vertex")
    )
    assert "europe-west1-aiplatform.googleapis.com" in note
    assert not any("vertex" in " ".join(step.command) for step in planner.steps())
