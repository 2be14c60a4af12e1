"""Generate `cloudbuild.yaml` from the topology, so the build cannot drift from it.

    python -m deploy.cloudbuild > cloudbuild.yaml      # `make cloudbuild`

The pipeline: tests -> one image per service, built in parallel, pushed to Artifact Registry
tagged with $SHORT_SHA -> each service deployed to Cloud Run in parallel (private, its own
account, its env and resources from the topology, backend `cloud`) -> invokers -> the wiring
(`deploy.apply`) -> IAM on subscriptions -> a smoke test of every health route with an identity
token. The scripts of the non-service phases are rendered by `deploy.render` inside the build,
from the same topology, so every command comes from one place (`deploy/plan.py`).
"""

from __future__ import annotations

import sys
from typing import Any

import yaml

from deploy.plan import Planner, Target
from deploy.topology import DEFAULT_PATH, Topology, load

PYTHON = "python:3.11-slim-bookworm"
PYTHON_FULL = "python:3.11-bookworm"  # the tests build tesserocr's neighbours, need a compiler
DOCKER = "gcr.io/cloud-builders/docker"
GCLOUD = "gcr.io/google.com/cloudsdktool/cloud-sdk:slim"
SUBSTITUTIONS = {"_REGION": "us-central1", "_REPOSITORY": "mlapi"}
SCRIPT_PHASES = ("setup", "post-deploy", "post-wiring", "smoke")
HEADER = (
    "# Generated from deploy/topology.yaml by `python -m deploy.cloudbuild` (`make cloudbuild`);\n"
    "# do not edit: a test checks that this file is what the generator makes.\n"
    "# Submit with `make deploy PROJECT=... REGION=...`; the README's 'Deploy to Google Cloud'.\n"
)


def build_config(topology: Topology) -> dict[str, Any]:
    target = Target(
        project="$PROJECT_ID", region="$_REGION", repository="$_REPOSITORY", tag="$SHORT_SHA"
    )
    planner = Planner(topology, target)
    services = list(topology.services)
    # `$$` is a literal `$` for Cloud Build, so `$$phase` reaches bash as `$phase`.
    render = (
        f"for phase in {' '.join(SCRIPT_PHASES)}; do python -m deploy.render "
        "--project=$PROJECT_ID --region=$_REGION --repository=$_REPOSITORY --tag=$SHORT_SHA "
        "--phases=$$phase --format=sh > /workspace/$$phase.sh; done"
    )
    steps: list[dict[str, Any]] = [
        {
            "id": "test",
            "name": PYTHON_FULL,
            "entrypoint": "bash",
            # The `labels` extra pins torch's CPU build, which PyPI does not carry.
            "env": ["PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu"],
            "args": ["-c", "make test"],
        },
        {
            "id": "plan",
            "name": PYTHON,
            "waitFor": ["-"],
            "entrypoint": "bash",
            "args": ["-c", f"pip install --quiet pydantic pyyaml && {render}"],
        },
        {
            "id": "setup",
            "name": GCLOUD,
            "waitFor": ["plan"],
            "entrypoint": "bash",
            "args": ["/workspace/setup.sh"],
        },
    ]
    for service in services:
        steps.append(
            {
                "id": f"build-{service}",
                "name": DOCKER,
                "waitFor": ["test"],
                "args": list(planner.build_args(service)[1:]),
            }
        )
    for service in services:
        steps.append(
            {
                "id": f"push-{service}",
                "name": DOCKER,
                "waitFor": [f"build-{service}", "setup"],
                "args": list(planner.push_args(service)[1:]),
            }
        )
    for service in services:
        steps.append(
            {
                "id": f"deploy-{service}",
                "name": GCLOUD,
                "entrypoint": "gcloud",
                "waitFor": [f"push-{service}"],
                "args": list(planner.deploy_args(service)[1:]),
            }
        )
    steps += [
        {
            "id": "post-deploy",
            "name": GCLOUD,
            "entrypoint": "bash",
            "waitFor": [f"deploy-{s}" for s in services],
            "args": ["/workspace/post-deploy.sh"],
        },
        {
            "id": "wire",
            "name": PYTHON,
            "entrypoint": "bash",
            "waitFor": ["post-deploy"],
            "args": [
                "-c",
                "pip install --quiet . && python -m deploy.apply "
                "--project=$PROJECT_ID --region=$_REGION",
            ],
        },
        {
            "id": "post-wiring",
            "name": GCLOUD,
            "entrypoint": "bash",
            "waitFor": ["wire"],
            "args": ["/workspace/post-wiring.sh"],
        },
        {
            "id": "smoke",
            "name": GCLOUD,
            "entrypoint": "bash",
            "waitFor": ["post-wiring"],
            "args": ["/workspace/smoke.sh"],
        },
    ]
    return {
        "substitutions": dict(SUBSTITUTIONS),
        "options": {"logging": "CLOUD_LOGGING_ONLY", "machineType": "E2_HIGHCPU_8"},
        "timeout": "3600s",
        "steps": steps,
        "images": [planner.image(service) for service in services],
    }


def render(topology: Topology) -> str:
    body = yaml.safe_dump(build_config(topology), sort_keys=False, width=100)
    return HEADER + body


def main() -> int:
    sys.stdout.write(render(load(DEFAULT_PATH)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
