"""Apply the topology's wiring: topics, buckets, subscriptions and bucket notifications,
through the Google client libraries' admin APIs.

One code path for both worlds: `mlapi up` runs it against the local emulators (Pub/Sub and
Cloud Storage, whose notification routes `local.gcs_emulator` adds), the cloud deploy against
Google Cloud. It is idempotent: what exists and matches is left alone, what differs is updated
in place where Pub/Sub allows it, and nothing is ever duplicated. A difference that cannot be
updated in place (a subscription's topic, filter or ordering) is reported as a conflict, never
"fixed" by deleting a subscription and its backlog.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from deploy.topology import Subscription, Topology, seconds

log = logging.getLogger("deploy.wiring")


@dataclasses.dataclass(frozen=True)
class Target:
    """Where the wiring goes. `service_urls` maps a service to its base URL (Cloud Run's URL,
    or http://127.0.0.1:PORT locally); push endpoints are that URL plus the push path."""

    project: str
    service_urls: dict[str, str]
    push_service_account: str | None = None  # OIDC token signer; None sends no token
    bucket_location: str | None = None


@dataclasses.dataclass(frozen=True)
class Change:
    kind: str  # topic | bucket | subscription | notification
    name: str
    action: str  # created | updated | unchanged | conflict
    detail: str = ""


class Wiring:
    """Applies a topology to a target with the official clients (created lazily)."""

    def __init__(
        self,
        topology: Topology,
        target: Target,
        *,
        publisher=None,
        subscriber=None,
        storage_client=None,
    ) -> None:
        self.topology = topology.render(target.project)
        self.target = target
        self._publisher = publisher
        self._subscriber = subscriber
        self._storage = storage_client

    # -- clients ----------------------------------------------------------------------------

    @property
    def publisher(self):
        if self._publisher is None:
            from google.cloud import pubsub_v1

            self._publisher = pubsub_v1.PublisherClient()
        return self._publisher

    @property
    def subscriber(self):
        if self._subscriber is None:
            from google.cloud import pubsub_v1

            self._subscriber = pubsub_v1.SubscriberClient()
        return self._subscriber

    @property
    def storage(self):
        if self._storage is None:
            import os

            from google.cloud import storage

            if os.environ.get("STORAGE_EMULATOR_HOST"):
                from google.auth.credentials import AnonymousCredentials

                self._storage = storage.Client(
                    project=self.target.project, credentials=AnonymousCredentials()
                )
            else:
                self._storage = storage.Client(project=self.target.project)
        return self._storage

    # -- names --------------------------------------------------------------------------------

    def topic_path(self, name: str) -> str:
        return f"projects/{self.target.project}/topics/{name}"

    def subscription_path(self, name: str) -> str:
        return f"projects/{self.target.project}/subscriptions/{name}"

    def push_endpoint(self, subscription: Subscription) -> str | None:
        if subscription.push is None:
            return None
        base = self.target.service_urls[subscription.push.service].rstrip("/")
        return base + subscription.push.path

    # -- apply --------------------------------------------------------------------------------

    def apply(self) -> list[Change]:
        """Topics first (subscriptions and notifications name them), then buckets,
        subscriptions and notifications."""
        changes = [self._topic(name) for name in self.topology.topics]
        changes += [self._bucket(name) for name in self.topology.buckets]
        changes += [
            self._subscription(name, sub) for name, sub in self.topology.subscriptions.items()
        ]
        for bucket_name, bucket in self.topology.buckets.items():
            changes += [self._notification(bucket_name, n) for n in bucket.notifications]
        for change in changes:
            if change.action != "unchanged":
                log.info("%s %s %s %s", change.action, change.kind, change.name, change.detail)
        return changes

    def _topic(self, name: str) -> Change:
        from google.api_core import exceptions

        try:
            self.publisher.create_topic(name=self.topic_path(name))
        except exceptions.AlreadyExists:
            return Change("topic", name, "unchanged")
        return Change("topic", name, "created")

    def _bucket(self, name: str) -> Change:
        from google.api_core import exceptions

        try:
            self.storage.create_bucket(name, location=self.target.bucket_location)
        except exceptions.Conflict:
            return Change("bucket", name, "unchanged")
        return Change("bucket", name, "created")

    def desired_subscription(self, name: str, sub: Subscription):
        from google.pubsub_v1 import types

        push_config = None
        endpoint = self.push_endpoint(sub)
        if endpoint and sub.push:
            push_config = types.PushConfig(push_endpoint=endpoint)
            if sub.push.oidc and self.target.push_service_account:
                push_config.oidc_token = types.PushConfig.OidcToken(
                    service_account_email=self.target.push_service_account, audience=endpoint
                )
            if sub.push.no_wrapper:
                push_config.no_wrapper = types.PushConfig.NoWrapper(
                    write_metadata=sub.push.write_metadata
                )
        wanted: dict[str, Any] = {
            "name": self.subscription_path(name),
            "topic": self.topic_path(sub.topic),
            "ack_deadline_seconds": int(seconds(sub.ack_deadline)),
            "enable_message_ordering": sub.enable_message_ordering,
            "filter": sub.filter or "",
        }
        if push_config is not None:
            wanted["push_config"] = push_config
        if sub.retry_policy:
            wanted["retry_policy"] = types.RetryPolicy(
                minimum_backoff=_duration(sub.retry_policy.minimum_backoff),
                maximum_backoff=_duration(sub.retry_policy.maximum_backoff),
            )
        if sub.dead_letter:
            wanted["dead_letter_policy"] = types.DeadLetterPolicy(
                dead_letter_topic=self.topic_path(sub.dead_letter.topic),
                max_delivery_attempts=sub.dead_letter.max_delivery_attempts,
            )
        return types.Subscription(**wanted)

    def _subscription(self, name: str, sub: Subscription) -> Change:
        from google.api_core import exceptions
        from google.protobuf import field_mask_pb2

        desired = self.desired_subscription(name, sub)
        try:
            current = self.subscriber.get_subscription(subscription=desired.name)
        except exceptions.NotFound:
            self.subscriber.create_subscription(request=desired)
            return Change("subscription", name, "created")
        immutable = [
            f
            for f in ("topic", "filter", "enable_message_ordering")
            if getattr(current, f) != getattr(desired, f)
        ]
        if immutable:
            return Change(
                "subscription",
                name,
                "conflict",
                f"{', '.join(immutable)} cannot change in place; delete the "
                "subscription (and its backlog) to recreate it",
            )
        mutable = ("push_config", "ack_deadline_seconds", "retry_policy", "dead_letter_policy")
        differing = [f for f in mutable if getattr(current, f) != getattr(desired, f)]
        if not differing:
            return Change("subscription", name, "unchanged")
        self.subscriber.update_subscription(
            request={
                "subscription": desired,
                "update_mask": field_mask_pb2.FieldMask(paths=differing),
            }
        )
        return Change("subscription", name, "updated", ", ".join(differing))

    def _notification(self, bucket_name: str, wanted) -> Change:
        bucket = self.storage.bucket(bucket_name)
        label = f"{bucket_name} -> {wanted.topic}"
        for existing in bucket.list_notifications():
            if (
                existing.topic_name == wanted.topic
                and existing.topic_project == self.target.project
                and sorted(existing.event_types or []) == sorted(wanted.event_types)
                and (existing.blob_name_prefix or None) == wanted.object_name_prefix
                and existing.payload_format == wanted.payload_format
                and (existing.custom_attributes or {}) == wanted.custom_attributes
            ):
                return Change("notification", label, "unchanged")
        bucket.notification(
            topic_name=wanted.topic,
            topic_project=self.target.project,
            custom_attributes=wanted.custom_attributes or None,
            event_types=list(wanted.event_types),
            blob_name_prefix=wanted.object_name_prefix,
            payload_format=wanted.payload_format,
        ).create()
        return Change("notification", label, "created")


def _duration(value: str):
    from google.protobuf import duration_pb2

    total = seconds(value)
    return duration_pb2.Duration(seconds=int(total), nanos=round((total % 1) * 1e9))
