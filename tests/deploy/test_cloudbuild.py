"""cloudbuild.yaml: generated from the topology, consistent with it, and a valid build graph."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from deploy import cloudbuild, naming
from deploy.topology import DEFAULT_PATH, load

ROOT = Path(__file__).resolve().parents[2]
CONFIG_PATH = ROOT / "cloudbuild.yaml"
BUILT_INS = {
    "PROJECT_ID",
    "PROJECT_NUMBER",
    "BUILD_ID",
    "LOCATION",
    "SHORT_SHA",
    "COMMIT_SHA",
    "REVISION_ID",
    "BRANCH_NAME",
    "TAG_NAME",
    "REPO_NAME",
}
OFFICIAL_BUILDERS = (
    "gcr.io/cloud-builders/",
    "gcr.io/google.com/cloudsdktool/cloud-sdk",
    "python:",
)  # python: the Docker Official Image
SUBSTITUTION = re.compile(r"(?<!\$)\$(?:\{([A-Z_][A-Z0-9_]*)\}|([A-Z_][A-Z0-9_]*))")


@pytest.fixture(scope="module")
def config() -> dict:
    return yaml.safe_load(CONFIG_PATH.read_text())


@pytest.fixture(scope="module")
def steps(config) -> dict[str, dict]:
    return {step["id"]: step for step in config["steps"]}


def test_committed_file_is_what_the_generator_makes():
    assert CONFIG_PATH.read_text() == cloudbuild.render(load(DEFAULT_PATH)), (
        "cloudbuild.yaml is stale: run `make cloudbuild`"
    )


@pytest.mark.parametrize("service", list(load(DEFAULT_PATH).services))
def test_every_service_is_built_pushed_and_deployed(steps, service):
    topology = load(DEFAULT_PATH).render("$PROJECT_ID")
    spec = topology.services[service]
    image = (
        f"$_REGION-docker.pkg.dev/$PROJECT_ID/$_REPOSITORY/{naming.run_service(service)}:$SHORT_SHA"
    )
    build = steps[f"build-{service}"]
    assert build["args"][:3] == ["build", "-f", "deploy/Dockerfile"]
    assert f"SERVICE={service}" in build["args"]
    assert f"TARGET={spec.target}" in build["args"]
    assert build["args"][build["args"].index("-t") + 1] == image
    assert steps[f"push-{service}"]["args"] == ["push", image]
    deploy = steps[f"deploy-{service}"]["args"]
    assert deploy[:3] == ["run", "deploy", naming.run_service(service)]
    r = spec.resources
    for flag in (
        f"--image={image}",
        "--no-allow-unauthenticated",
        "--region=$_REGION",
        f"--service-account=mlapi-{naming.run_service(service)}@$PROJECT_ID.iam."
        "gserviceaccount.com",
        f"--concurrency={r.concurrency}",
        f"--cpu={r.cpu:g}",
        f"--memory={r.memory}",
        f"--min-instances={r.min_instances}",
        f"--max-instances={r.max_instances}",
        "--cpu-boost",
    ):
        assert flag in deploy, flag
    env = next(a for a in deploy if a.startswith("--set-env-vars="))
    assert "ML_BACKEND=cloud" in env
    for key, value in spec.env.items():
        assert f"{key}={value}" in env


def test_the_step_graph_is_acyclic_and_only_looks_back(config):
    seen: set[str] = set()
    for step in config["steps"]:
        for dependency in step.get("waitFor", []):
            assert dependency == "-" or dependency in seen, (step["id"], dependency)
        seen.add(step["id"])


def test_builds_run_in_parallel_after_the_tests(steps):
    builds = [s for name, s in steps.items() if name.startswith("build-")]
    assert len(builds) == len(load(DEFAULT_PATH).services)
    assert all(b["waitFor"] == ["test"] for b in builds)
    deploys = [s for name, s in steps.items() if name.startswith("deploy-")]
    assert all(d["waitFor"] == [d["id"].replace("deploy-", "push-")] for d in deploys)


def test_every_substitution_used_is_declared(config):
    declared = set(config["substitutions"]) | BUILT_INS
    used = {a or b for a, b in SUBSTITUTION.findall(CONFIG_PATH.read_text())}
    assert used <= declared, used - declared
    assert all(name.startswith("_") for name in config["substitutions"])


def test_builders_are_official_images(config):
    for step in config["steps"]:
        assert step["name"].startswith(OFFICIAL_BUILDERS), step["name"]


def test_smoke_test_comes_last(config):
    assert config["steps"][-1]["id"] == "smoke"
