"""Resource-name rules of Pub/Sub, pure.

A topic, subscription, snapshot or schema id is 3-255 characters, starts with a letter, uses only
``[A-Za-z0-9-_.~+%]`` and does not start with ``goog``
(cloud.google.com/pubsub/docs/pubsub-basics#resource_names). Project ids are only checked to be
non-empty and free of ``/``: the emulator, like the official one, accepts any project.
"""

from __future__ import annotations

import re

from local.pubsub.errors import invalid

_ID = re.compile(r"[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}")
_PROJECT = re.compile(r"projects/([^/]+)")
_RESOURCE = re.compile(r"projects/([^/]+)/(topics|subscriptions|snapshots|schemas)/([^/]+)")

# What a subscription's `topic` becomes after its topic is deleted (the real service's value).
DELETED_TOPIC = "_deleted-topic_"


def valid_id(resource_id: str) -> bool:
    """True if ``resource_id`` is a valid topic or subscription id."""
    return bool(_ID.fullmatch(resource_id)) and not resource_id.startswith("goog")


def _parse(name: str, kind: str) -> tuple[str, str]:
    match = _RESOURCE.fullmatch(name or "")
    if not match or match.group(2) != kind or not valid_id(match.group(3)):
        raise invalid(f"Invalid [{kind}] name: (name={name})")
    return match.group(1), match.group(3)


def parse_topic(name: str) -> tuple[str, str]:
    """``projects/P/topics/T`` -> ``(P, T)``; INVALID_ARGUMENT otherwise."""
    return _parse(name, "topics")


def parse_subscription(name: str) -> tuple[str, str]:
    """``projects/P/subscriptions/S`` -> ``(P, S)``; INVALID_ARGUMENT otherwise."""
    return _parse(name, "subscriptions")


def parse_snapshot(name: str) -> tuple[str, str]:
    """``projects/P/snapshots/S`` -> ``(P, S)``; INVALID_ARGUMENT otherwise."""
    return _parse(name, "snapshots")


def parse_schema(name: str) -> tuple[str, str]:
    """``projects/P/schemas/S`` -> ``(P, S)``; INVALID_ARGUMENT otherwise."""
    return _parse(name, "schemas")


def parse_project(name: str) -> str:
    """``projects/P`` -> ``P``; INVALID_ARGUMENT otherwise."""
    match = _PROJECT.fullmatch(name or "")
    if not match:
        raise invalid(f"Invalid [projects] name: (name={name})")
    return match.group(1)


def short(name: str) -> str:
    """The last path segment, as the real service names resources in error messages."""
    return name.rsplit("/", 1)[-1]
