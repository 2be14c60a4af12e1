"""The wiring code, applied for real against the local emulators (the same calls the cloud
deploy makes against Google Cloud): complete, idempotent, updates in place, refuses to destroy."""

from __future__ import annotations

import uuid

import pytest

from deploy.topology import DEFAULT_PATH, load
from deploy.wiring import Target, Wiring


@pytest.fixture
def project() -> str:
    # A project per test keeps tests apart on the shared emulators (bucket names are global).
    return f"wire-{uuid.uuid4().hex[:8]}"


def _wiring(emulators, project: str, topology=None) -> Wiring:
    topology = topology or load(DEFAULT_PATH)
    target = Target(
        project=project,
        service_urls={name: f"http://127.0.0.1:{s.port}" for name, s in topology.services.items()},
        push_service_account=f"push@{project}.iam.gserviceaccount.com",
    )
    return Wiring(
        topology,
        target,
        publisher=emulators.publisher(),
        subscriber=emulators.subscriber(),
        storage_client=emulators.storage(),
    )


def _state(emulators, project: str) -> dict:
    publisher, subscriber, storage = (
        emulators.publisher(),
        emulators.subscriber(),
        emulators.storage(),
    )
    topics = sorted(t.name for t in publisher.list_topics(project=f"projects/{project}"))
    subscriptions = sorted(
        type(s).to_json(s) for s in subscriber.list_subscriptions(project=f"projects/{project}")
    )
    buckets = sorted(b.name for b in storage.list_buckets() if b.name.startswith(project))
    notifications = sorted(
        (b, n.topic_name, tuple(n.event_types or ()))
        for b in buckets
        for n in storage.bucket(b).list_notifications()
    )
    return {
        "topics": topics,
        "subscriptions": subscriptions,
        "buckets": buckets,
        "notifications": notifications,
    }


def test_applies_the_whole_topology(emulators, project):
    changes = _wiring(emulators, project).apply()
    topology = load(DEFAULT_PATH)
    assert {c.action for c in changes} == {"created"}
    state = _state(emulators, project)
    assert len(state["topics"]) == len(topology.topics)
    assert len(state["subscriptions"]) == len(topology.subscriptions)
    assert state["buckets"] == sorted(b.replace("{project}", project) for b in topology.buckets)
    assert state["notifications"] == sorted(
        (bucket.replace("{project}", project), n.topic, tuple(n.event_types))
        for bucket, spec in topology.buckets.items()
        for n in spec.notifications
    )
    assert (f"{project}-images", "images-finalized", ("OBJECT_FINALIZE",)) in state["notifications"]
    sub = emulators.subscriber().get_subscription(
        subscription=f"projects/{project}/subscriptions/vision-images"
    )
    assert sub.push_config.push_endpoint == "http://127.0.0.1:8081/events"
    assert (
        sub.push_config.oidc_token.service_account_email
        == f"push@{project}.iam.gserviceaccount.com"
    )
    assert sub.push_config.oidc_token.audience == "http://127.0.0.1:8081/events"
    assert sub.ack_deadline_seconds == 300
    assert sub.dead_letter_policy.max_delivery_attempts == 5
    assert sub.retry_policy.minimum_backoff.seconds == 10
    assert sub.filter == 'attributes.eventType = "OBJECT_FINALIZE"'


def test_applying_twice_gives_the_same_state_as_once(emulators, project):
    _wiring(emulators, project).apply()
    once = _state(emulators, project)
    second = _wiring(emulators, project).apply()
    assert {c.action for c in second} == {"unchanged"}
    assert _state(emulators, project) == once


def test_changes_are_applied_in_place(emulators, project):
    topology = load(DEFAULT_PATH)
    _wiring(emulators, project, topology).apply()
    sub = topology.subscriptions["vision-images"].model_copy(update={"ack_deadline": "120s"})
    changed = topology.model_copy(
        update={"subscriptions": {**topology.subscriptions, "vision-images": sub}}
    )
    changes = _wiring(emulators, project, changed).apply()
    [update] = [c for c in changes if c.action != "unchanged"]
    assert (update.name, update.action, update.detail) == (
        "vision-images",
        "updated",
        "ack_deadline_seconds",
    )
    current = emulators.subscriber().get_subscription(
        subscription=f"projects/{project}/subscriptions/vision-images"
    )
    assert current.ack_deadline_seconds == 120


def test_an_immutable_difference_is_a_conflict_not_a_deletion(emulators, project):
    topology = load(DEFAULT_PATH)
    _wiring(emulators, project, topology).apply()
    sub = topology.subscriptions["vision-images"].model_copy(update={"filter": None})
    changed = topology.model_copy(
        update={"subscriptions": {**topology.subscriptions, "vision-images": sub}}
    )
    changes = _wiring(emulators, project, changed).apply()
    [conflict] = [c for c in changes if c.action == "conflict"]
    assert "filter" in conflict.detail
    current = emulators.subscriber().get_subscription(
        subscription=f"projects/{project}/subscriptions/vision-images"
    )
    assert current.filter  # untouched
