"""google.pubsub.v1 Publisher and Subscriber, and google.iam.v1.IAMPolicy, as plain methods:
one per RPC, protobuf request in, protobuf response out.

Both the gRPC servicer and the REST app call these, so the two surfaces cannot drift apart.
Methods are named as the RPCs are. The SchemaService is :class:`SchemaApi` (schema_api.py).
:meth:`PubsubApi.authorize` is the IAM check made before an RPC (see iam.py).
"""

from __future__ import annotations

from collections.abc import Callable

from local.pubsub import protos
from local.pubsub.errors import exactly_once_failure, invalid
from local.pubsub.registry import ResourceRegistry

MAX_PULL_MESSAGES = 1000
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
# How long a Pull without return_immediately waits for a first message. The real service also
# returns empty responses when nothing arrives for a while; 5 s keeps idle clients cheap.
MAX_PULL_WAIT = 5.0


def _page(items: list, size: int, token: str, key: Callable[[object], str]) -> tuple[list, str]:
    """Pages a name-sorted list; the token is the last name of the previous page."""
    if size < 0:
        raise invalid("page_size must not be negative.")
    size = min(size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    if token:
        items = [item for item in items if key(item) > token]
    page = items[:size]
    return page, (key(page[-1]) if len(items) > size else "")


# RPC -> (permission, request field naming the resource) checked under --enforce-iam.
CHECKED = {
    "Publish": ("pubsub.topics.publish", "topic"),
    "Pull": ("pubsub.subscriptions.consume", "subscription"),
    "StreamingPull": ("pubsub.subscriptions.consume", "subscription"),
    "Acknowledge": ("pubsub.subscriptions.consume", "subscription"),
    "ModifyAckDeadline": ("pubsub.subscriptions.consume", "subscription"),
    "Seek": ("pubsub.subscriptions.consume", "subscription"),
}


class PubsubApi:
    def __init__(self, registry: ResourceRegistry, snapshots=None, policies=None) -> None:
        self.registry = registry
        self.snapshots = snapshots  # SnapshotBook
        self.policies = policies  # PolicyBook
        self.schemas = registry.schemas  # SchemaBook

    def authorize(self, rpc: str, request, metadata: dict[str, str]) -> None:
        """Raises PERMISSION_DENIED when IAM is enforced and the caller may not make ``rpc``."""
        if self.policies is None or not self.policies.enforce or rpc not in CHECKED:
            return
        permission, field = CHECKED[rpc]
        self.policies.check(getattr(request, field), permission, metadata)

    # -- Publisher ------------------------------------------------------------------------------

    def CreateTopic(self, request):
        return self.registry.create_topic(request)

    def GetTopic(self, request):
        return self.registry.topic(request.topic).pb

    def UpdateTopic(self, request):
        return self.registry.update_topic(request.topic, request.update_mask)

    def DeleteTopic(self, request):
        self.registry.delete_topic(request.topic)
        self._forget(request.topic)
        return protos.Empty()

    def ListTopics(self, request):
        topics = self.registry.list_topics(request.project)
        page, token = _page(topics, request.page_size, request.page_token, lambda t: t.name)
        return protos.ListTopicsResponse(topics=page, next_page_token=token)

    def ListTopicSubscriptions(self, request):
        subs = self.registry.topic_subscriptions(request.topic)
        page, token = _page(subs, request.page_size, request.page_token, lambda s: s)
        return protos.ListTopicSubscriptionsResponse(subscriptions=page, next_page_token=token)

    def ListTopicSnapshots(self, request):
        snaps = self.snapshots.of_topic(request.topic)
        page, token = _page(snaps, request.page_size, request.page_token, lambda s: s)
        return protos.ListTopicSnapshotsResponse(snapshots=page, next_page_token=token)

    def Publish(self, request):
        ids = self.registry.publish(request.topic, list(request.messages))
        return protos.PublishResponse(message_ids=ids)

    def DetachSubscription(self, request):
        self.registry.detach_subscription(request.subscription)
        return protos.DetachSubscriptionResponse()

    # -- Subscriber -----------------------------------------------------------------------------

    def CreateSubscription(self, request):
        return self.registry.create_subscription(request)

    def GetSubscription(self, request):
        return self.registry.sub(request.subscription).pb

    def UpdateSubscription(self, request):
        return self.registry.update_subscription(request.subscription, request.update_mask)

    def DeleteSubscription(self, request):
        self.registry.delete_subscription(request.subscription)
        self._forget(request.subscription)
        return protos.Empty()

    def ListSubscriptions(self, request):
        subs = self.registry.list_subscriptions(request.project)
        page, token = _page(subs, request.page_size, request.page_token, lambda s: s.name)
        return protos.ListSubscriptionsResponse(subscriptions=page, next_page_token=token)

    def ModifyPushConfig(self, request):
        self.registry.modify_push_config(request.subscription, request.push_config)
        return protos.Empty()

    def Pull(self, request, wait: float = MAX_PULL_WAIT, active=None):
        sub = self.registry.sub(request.subscription)
        if request.max_messages <= 0:
            raise invalid("max_messages must be greater than 0.")
        if request.return_immediately:
            wait = 0.0
        got = sub.queue.pull(
            min(request.max_messages, MAX_PULL_MESSAGES),
            timeout=max(0.0, min(wait, MAX_PULL_WAIT)),
            active=active,
        )
        response = protos.PullResponse()
        for ack_id, msg, attempt in got:
            received = response.received_messages.add(ack_id=ack_id, delivery_attempt=attempt)
            received.message.CopyFrom(msg)
        return response

    def Acknowledge(self, request):
        sub = self.registry.sub(request.subscription)
        ack_ids = list(request.ack_ids)
        if not ack_ids:
            raise invalid("No ack ids were given.")
        check_ack_ids(ack_ids)
        failed = sub.queue.ack(ack_ids)
        if sub.pb.enable_exactly_once_delivery:
            # Exactly-once: answer only once the ack is on disk (no redelivery after a kill),
            # and report the ack ids that could not be acknowledged.
            self.registry.sync()
            if failed:
                raise exactly_once_failure(failed)
        return protos.Empty()

    def ModifyAckDeadline(self, request):
        sub = self.registry.sub(request.subscription)
        ack_ids = list(request.ack_ids)
        if not ack_ids:
            raise invalid("No ack ids were given.")
        check_deadline(request.ack_deadline_seconds)
        check_ack_ids(ack_ids)
        failed = sub.queue.modify(ack_ids, request.ack_deadline_seconds)
        if failed and sub.pb.enable_exactly_once_delivery:
            raise exactly_once_failure(failed)
        return protos.Empty()

    # -- snapshots and seek ---------------------------------------------------------------------

    def GetSnapshot(self, request):
        return self.snapshots.get(request.snapshot).pb

    def ListSnapshots(self, request):
        snaps = self.snapshots.list(request.project)
        page, token = _page(snaps, request.page_size, request.page_token, lambda s: s.name)
        return protos.ListSnapshotsResponse(snapshots=page, next_page_token=token)

    def CreateSnapshot(self, request):
        return self.snapshots.create(request)

    def UpdateSnapshot(self, request):
        return self.snapshots.update(request.snapshot, request.update_mask)

    def DeleteSnapshot(self, request):
        self.snapshots.delete(request.snapshot)
        self._forget(request.snapshot)
        return protos.Empty()

    def Seek(self, request):
        return self.snapshots.seek(request)

    # -- IAM (google.iam.v1.IAMPolicy) ----------------------------------------------------------

    def _resource(self, name: str) -> None:
        """NOT_FOUND unless ``name`` is an existing topic, subscription, snapshot or schema."""
        kind = name.split("/")[2] if name.count("/") == 3 else ""
        if kind == "topics":
            self.registry.topic(name)
        elif kind == "subscriptions":
            self.registry.sub(name)
        elif kind == "snapshots":
            self.snapshots.get(name)
        elif kind == "schemas":
            self.schemas.resolve(name)
        else:
            raise invalid(f"Invalid resource name given (name={name}).")

    def _forget(self, name: str) -> None:
        if self.policies is not None:
            self.policies.forget(name)

    def GetIamPolicy(self, request):
        self._resource(request.resource)
        return self.policies.get(request.resource)

    def SetIamPolicy(self, request):
        self._resource(request.resource)
        mask = request.update_mask if request.HasField("update_mask") else None
        return self.policies.set(request.resource, request.policy, mask)

    def TestIamPermissions(self, request, metadata: dict[str, str] | None = None):
        self._resource(request.resource)
        caller = self.policies.caller(metadata or {})
        granted = self.policies.test(request.resource, list(request.permissions), caller)
        return protos.TestIamPermissionsResponse(permissions=granted)


def check_deadline(seconds: int) -> None:
    if not 0 <= seconds <= 600:
        raise invalid(
            f"Invalid ack deadline given: {seconds}; it must be between 0 and 600 seconds."
        )


def check_ack_ids(ack_ids: list[str]) -> None:
    for ack_id in ack_ids:
        head, _, tail = ack_id.partition("-")
        if len(head) != 8 or not tail.isdigit():
            raise invalid(f"You have passed an invalid ack ID to the service (ack_id={ack_id}).")
