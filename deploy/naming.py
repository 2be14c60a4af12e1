"""Names on Google Cloud derived from the topology: Cloud Run services, service accounts, images.

Cloud Run service names allow lower-case letters, digits and hyphens (no underscores);
service-account ids are 6-30 characters of the same. Every name here is a pure function of
the topology's names, so the plan, the build and the wiring agree without talking.
"""

from __future__ import annotations

import re

PREFIX = "mlapi"
PUSH_INVOKER = f"{PREFIX}-push-invoker"
_ACCOUNT_ID = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")


def run_service(service: str) -> str:
    """The Cloud Run name of a topology service: `batch_prediction` -> `batch-prediction`."""
    return service.replace("_", "-").lower()


def account_id(service: str) -> str:
    """The runtime service account id of a topology service."""
    candidate = f"{PREFIX}-{run_service(service)}"[:30].rstrip("-")
    if not _ACCOUNT_ID.match(candidate):
        raise ValueError(f"cannot derive a service account id from {service!r}: {candidate!r}")
    return candidate


def account_email(account: str, project: str) -> str:
    return f"{account}@{project}.iam.gserviceaccount.com"


def image(service: str, project: str, region: str, repository: str, tag: str) -> str:
    return f"{region}-docker.pkg.dev/{project}/{repository}/{run_service(service)}:{tag}"


def pubsub_agent(project_number: str) -> str:
    """Pub/Sub's service agent: mints push OIDC tokens, forwards dead letters."""
    return f"service-{project_number}@gcp-sa-pubsub.iam.gserviceaccount.com"


def storage_agent(project_number: str) -> str:
    """Cloud Storage's service agent: publishes bucket notifications."""
    return f"service-{project_number}@gs-project-accounts.iam.gserviceaccount.com"


def cloud_build_account(project_number: str) -> str:
    """Cloud Build's default service account: runs the build, calls the smoke test."""
    return f"{project_number}@cloudbuild.gserviceaccount.com"
