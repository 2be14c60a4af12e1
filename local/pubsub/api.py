"""google.pubsub.v1 as plain methods: one per RPC, protobuf request in, protobuf response out.

Both the gRPC servicer and the REST app call these, so the two surfaces cannot drift apart.
Methods are named as the RPCs are. Not implemented, answered with UNIMPLEMENTED: snapshots
(GetSnapshot, ListSnapshots, CreateSnapshot, UpdateSnapshot, DeleteSnapshot,
ListTopicSnapshots), Seek, the SchemaService and IAM (those two services are not served at all,
so gRPC answers UNIMPLEMENTED by itself).
"""

from __future__ import annotations

from collections.abc import Callable

from local.pubsub import protos
from local.pubsub.errors import invalid, unimplemented
from local.pubsub.registry import Registry

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


class PubsubApi:
    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    # -- Publisher ------------------------------------------------------------------------------

    def CreateTopic(self, request):
        return self.registry.create_topic(request)

    def GetTopic(self, request):
        return self.registry.topic(request.topic).pb

    def UpdateTopic(self, request):
        return self.registry.update_topic(request.topic, request.update_mask)

    def DeleteTopic(self, request):
        self.registry.delete_topic(request.topic)
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
        raise unimplemented("Snapshots")

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
        sub.queue.ack(ack_ids)
        return protos.Empty()

    def ModifyAckDeadline(self, request):
        sub = self.registry.sub(request.subscription)
        ack_ids = list(request.ack_ids)
        if not ack_ids:
            raise invalid("No ack ids were given.")
        check_deadline(request.ack_deadline_seconds)
        check_ack_ids(ack_ids)
        sub.queue.modify(ack_ids, request.ack_deadline_seconds)
        return protos.Empty()

    def GetSnapshot(self, request):
        raise unimplemented("Snapshots")

    ListSnapshots = CreateSnapshot = UpdateSnapshot = DeleteSnapshot = GetSnapshot

    def Seek(self, request):
        raise unimplemented("Seek")


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
