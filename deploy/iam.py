"""Least privilege, derived from the topology: who gets which role on what, and why.

Nothing here is hand-listed per deployment; every binding follows from a line of the topology:

- service S `reads` bucket B: S's account gets `roles/storage.objectViewer` on B;
- S `writes` bucket B: `roles/storage.objectUser` on B (a redelivery rewrites its result, which
  needs delete, so objectCreator is not enough);
- S publishes to topic T (`OUTPUT_TOPIC`): `roles/pubsub.publisher` on T;
- S calls API A (`apis`): the role A requires (below), on the project;
- a subscription pushes to S: the push invoker account gets `roles/run.invoker` on S;
- a push subscription uses OIDC: Pub/Sub's service agent gets
  `roles/iam.serviceAccountTokenCreator` on the push invoker;
- subscription U dead-letters to topic D: Pub/Sub's service agent gets `roles/pubsub.publisher`
  on D and `roles/pubsub.subscriber` on U;
- bucket B notifies topic T: Cloud Storage's service agent gets `roles/pubsub.publisher` on T;
- every service: Cloud Build's account gets `roles/run.invoker` on it (the smoke test).

APIs and the role a caller needs (cloud.google.com/iam/docs/understanding-roles): Vision,
Natural Language and Speech need none beyond the API being enabled in the project; Translation
needs `roles/cloudtranslate.user`, Document AI `roles/documentai.apiUser`, Vertex AI
`roles/aiplatform.user`.
"""

from __future__ import annotations

import dataclasses

from deploy import naming
from deploy.topology import Topology

API_ROLES: dict[str, str | None] = {
    "vision.googleapis.com": None,
    "language.googleapis.com": None,
    "speech.googleapis.com": None,
    "translate.googleapis.com": "roles/cloudtranslate.user",
    "documentai.googleapis.com": "roles/documentai.apiUser",
    "aiplatform.googleapis.com": "roles/aiplatform.user",
}


@dataclasses.dataclass(frozen=True, order=True)
class Binding:
    kind: str  # project | bucket | topic | subscription | run-service | service-account
    resource: str
    member: str
    role: str
    reason: str = dataclasses.field(default="", compare=False)


def bindings(topology: Topology, project: str, project_number: str) -> list[Binding]:
    """Every IAM binding the topology implies, deduplicated and sorted."""
    topology = topology.render(project)
    found: list[Binding] = []
    for name, service in topology.services.items():
        member = f"serviceAccount:{naming.account_email(naming.account_id(name), project)}"
        found += [
            Binding("bucket", b, member, "roles/storage.objectViewer", f"{name} reads")
            for b in service.reads
        ]
        found += [
            Binding("bucket", b, member, "roles/storage.objectUser", f"{name} writes")
            for b in service.writes
        ]
        found += [
            Binding("topic", t, member, "roles/pubsub.publisher", f"{name} publishes")
            for t in service.publishes
        ]
        for api in service.apis:
            if api not in API_ROLES:
                raise ValueError(f"service {name!r} calls {api}: add its role to API_ROLES")
            if API_ROLES[api]:
                found.append(
                    Binding("project", project, member, API_ROLES[api], f"{name} calls {api}")
                )
        found.append(
            Binding(
                "run-service",
                naming.run_service(name),
                f"serviceAccount:{naming.cloud_build_account(project_number)}",
                "roles/run.invoker",
                "the deploy's smoke test",
            )
        )
    pubsub_agent = f"serviceAccount:{naming.pubsub_agent(project_number)}"
    push_invoker = naming.account_email(naming.PUSH_INVOKER, project)
    for name, sub in topology.subscriptions.items():
        if sub.push:
            found.append(
                Binding(
                    "run-service",
                    naming.run_service(sub.push.service),
                    f"serviceAccount:{push_invoker}",
                    "roles/run.invoker",
                    f"{name} pushes to it",
                )
            )
            if sub.push.oidc:
                found.append(
                    Binding(
                        "service-account",
                        push_invoker,
                        pubsub_agent,
                        "roles/iam.serviceAccountTokenCreator",
                        "Pub/Sub signs the push OIDC tokens",
                    )
                )
        if sub.dead_letter:
            found.append(
                Binding(
                    "topic",
                    sub.dead_letter.topic,
                    pubsub_agent,
                    "roles/pubsub.publisher",
                    f"{name} dead-letters",
                )
            )
            found.append(
                Binding(
                    "subscription",
                    name,
                    pubsub_agent,
                    "roles/pubsub.subscriber",
                    f"{name} dead-letters",
                )
            )
    storage_agent = f"serviceAccount:{naming.storage_agent(project_number)}"
    for bucket_name, bucket in topology.buckets.items():
        found += [
            Binding(
                "topic", n.topic, storage_agent, "roles/pubsub.publisher", f"{bucket_name} notifies"
            )
            for n in bucket.notifications
        ]
    unique: dict[Binding, Binding] = {}
    for binding in found:
        unique.setdefault(binding, binding)
    return sorted(unique.values())


def accounts(topology: Topology) -> list[str]:
    """Service account ids to create: one per service, and the push invoker if any push."""
    ids = [naming.account_id(name) for name in topology.services]
    if any(sub.push for sub in topology.subscriptions.values()):
        ids.append(naming.PUSH_INVOKER)
    return ids
