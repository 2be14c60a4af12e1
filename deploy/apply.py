"""The wiring step of the cloud deploy: subscriptions (push to each service's Cloud Run URL, OIDC
as the push invoker), topics and bucket notifications, through `deploy.wiring`, the code
`mlapi up` runs against the local emulators.

    python -m deploy.apply --project P --region R [--topology deploy/topology.yaml]

Credentials are Application Default Credentials (Cloud Build's service account in the build).
Exits non-zero when a subscription differs in a way that cannot be updated in place.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from deploy import naming
from deploy.topology import DEFAULT_PATH, load
from deploy.wiring import Target, Wiring

RUN_API = "https://run.googleapis.com/v2"


def service_urls(services: list[str], project: str, region: str, session=None) -> dict[str, str]:
    """Each service's Cloud Run URL, from the Cloud Run Admin API (v2 `Service.uri`)."""
    if session is None:
        import google.auth
        from google.auth.transport.requests import AuthorizedSession

        credentials, _ = google.auth.default(
            scopes=["https://www.googleapis.com/auth/cloud-platform"]
        )
        session = AuthorizedSession(credentials)
    urls = {}
    for service in services:
        name = f"projects/{project}/locations/{region}/services/{naming.run_service(service)}"
        response = session.get(f"{RUN_API}/{name}", timeout=30)
        response.raise_for_status()
        urls[service] = response.json()["uri"]
    return urls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.apply", description=__doc__)
    parser.add_argument("--project", required=True)
    parser.add_argument("--region", required=True)
    parser.add_argument("--topology", type=Path, default=DEFAULT_PATH)
    args = parser.parse_args(argv)
    topology = load(args.topology)
    target = Target(
        project=args.project,
        service_urls=service_urls(list(topology.services), args.project, args.region),
        push_service_account=naming.account_email(naming.PUSH_INVOKER, args.project),
        bucket_location=args.region,
    )
    changes = Wiring(topology, target).apply()
    for change in changes:
        print(f"{change.action:<10} {change.kind:<13} {change.name} {change.detail}".rstrip())
    return 1 if any(c.action == "conflict" for c in changes) else 0


if __name__ == "__main__":
    sys.exit(main())
