"""Checks and defaults for Topic and Subscription resources and their update masks, pure.

Limits are the real service's (cloud.google.com/pubsub/quotas, pubsub.proto field comments):
ack deadline 10-600 s (0 means the default 10 s); message retention 10 min - 31 days (default
7 days); dead-letter max_delivery_attempts 5-100 (0 means 5); retry backoff 0-600 s each
(defaults 10 s and 600 s); filter at most 256 bytes; a subscription's expiration TTL defaults to
31 days. Features the emulator does not have are refused with UNIMPLEMENTED rather than stored
and silently ignored: BigQuery/Cloud Storage/Bigtable subscriptions, ingestion sources and
message transforms.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from google.protobuf import field_mask_pb2

from local.pubsub import filters, names, protos
from local.pubsub.errors import invalid, unimplemented

DAY = 86400
DEFAULT_ACK_DEADLINE = 10
DEFAULT_RETENTION = 7 * DAY
DEFAULT_EXPIRATION_TTL = 31 * DAY
DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_MIN_BACKOFF = 10.0
DEFAULT_MAX_BACKOFF = 600.0

TOPIC_UPDATABLE = {
    "labels",
    "message_storage_policy",
    "kms_key_name",
    "message_retention_duration",
    "schema_settings",
}
SUBSCRIPTION_UPDATABLE = {
    "ack_deadline_seconds",
    "push_config",
    "retain_acked_messages",
    "message_retention_duration",
    "labels",
    "expiration_policy",
    "dead_letter_policy",
    "retry_policy",
    "enable_exactly_once_delivery",
}
SUBSCRIPTION_IMMUTABLE = {"name", "topic", "filter", "enable_message_ordering"}


def seconds(duration) -> float:
    return duration.seconds + duration.nanos / 1e9


def check_topic(topic) -> None:
    """Validates a Topic for create or after an update."""
    names.parse_topic(topic.name)
    if topic.HasField("message_retention_duration"):
        _check_retention(topic.message_retention_duration, "message_retention_duration")
    if topic.HasField("ingestion_data_source_settings"):
        raise unimplemented("Import topics (ingestion_data_source_settings)")
    if len(topic.message_transforms):
        raise unimplemented("Message transforms")


def _check_retention(duration, field: str) -> None:
    value = seconds(duration)
    if not 600 <= value <= 31 * DAY:
        raise invalid(f"Invalid {field}: must be between 10 minutes and 31 days, got {value}s.")


def check_subscription(sub) -> None:
    """Validates a Subscription and fills in the defaults the real service reports."""
    names.parse_subscription(sub.name)
    if sub.topic != names.DELETED_TOPIC:
        names.parse_topic(sub.topic)
    if sub.ack_deadline_seconds == 0:
        sub.ack_deadline_seconds = DEFAULT_ACK_DEADLINE
    if not 10 <= sub.ack_deadline_seconds <= 600:
        raise invalid(
            f"Invalid ack_deadline_seconds: {sub.ack_deadline_seconds}; "
            "it must be between 10 and 600 seconds."
        )
    if sub.HasField("message_retention_duration"):
        _check_retention(sub.message_retention_duration, "message_retention_duration")
    else:
        sub.message_retention_duration.seconds = DEFAULT_RETENTION
    if not sub.HasField("expiration_policy"):
        sub.expiration_policy.ttl.seconds = DEFAULT_EXPIRATION_TTL
    elif sub.expiration_policy.HasField("ttl") and seconds(sub.expiration_policy.ttl) < DAY:
        raise invalid("Invalid expiration_policy.ttl: the minimum is 1 day.")
    _check_push(sub.push_config)
    _check_dead_letter(sub)
    _check_retry(sub)
    if sub.filter:
        try:
            filters.parse(sub.filter)
        except filters.FilterError as exc:
            raise invalid(f"Invalid filter expression: {exc}.") from None
    for field in ("bigquery_config", "cloud_storage_config", "bigtable_config"):
        if sub.HasField(field):
            raise unimplemented(f"Export subscriptions ({field})")
    if len(sub.message_transforms):
        raise unimplemented("Message transforms")
    sub.state = protos.Subscription.State.ACTIVE


def _check_push(push) -> None:
    if not push.push_endpoint:
        if push.HasField("oidc_token") or push.HasField("no_wrapper"):
            raise invalid("Invalid push_config: push_endpoint is required.")
        return
    url = urlsplit(push.push_endpoint)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise invalid(f"Invalid push_endpoint given: {push.push_endpoint}. Use an http(s) URL.")
    if push.HasField("oidc_token") and not push.oidc_token.service_account_email:
        raise invalid("Invalid push_config.oidc_token: service_account_email is required.")


def _check_dead_letter(sub) -> None:
    if not sub.HasField("dead_letter_policy"):
        return
    policy = sub.dead_letter_policy
    if not policy.dead_letter_topic:
        sub.ClearField("dead_letter_policy")
        return
    names.parse_topic(policy.dead_letter_topic)
    if policy.max_delivery_attempts == 0:
        policy.max_delivery_attempts = DEFAULT_MAX_ATTEMPTS
    if not 5 <= policy.max_delivery_attempts <= 100:
        raise invalid(
            f"Invalid max_delivery_attempts: {policy.max_delivery_attempts}; "
            "it must be between 5 and 100."
        )


def _check_retry(sub) -> None:
    if not sub.HasField("retry_policy"):
        return
    policy = sub.retry_policy
    if not policy.HasField("minimum_backoff"):
        policy.minimum_backoff.seconds = int(DEFAULT_MIN_BACKOFF)
    if not policy.HasField("maximum_backoff"):
        policy.maximum_backoff.seconds = int(DEFAULT_MAX_BACKOFF)
    low, high = seconds(policy.minimum_backoff), seconds(policy.maximum_backoff)
    if not (0 <= low <= 600 and 0 <= high <= 600):
        raise invalid("Invalid retry_policy: backoffs must be between 0 and 600 seconds.")
    if low > high:
        raise invalid("Invalid retry_policy: minimum_backoff is greater than maximum_backoff.")


def apply_mask(current, update, mask, updatable: set[str], immutable: set[str], kind: str):
    """Returns a copy of ``current`` with the masked fields taken from ``update``."""
    paths = list(mask.paths)
    if not paths:
        raise invalid(f"The update_mask in the Update{kind}Request must be set.")
    for path in paths:
        top = path.split(".", 1)[0]
        if top in immutable:
            raise invalid(
                f"Invalid update_mask provided in the Update{kind}Request: "
                f"the '{path}' field cannot be updated."
            )
        if top not in updatable:
            raise invalid(
                f"Invalid update_mask provided in the Update{kind}Request: "
                f"the '{path}' field is unknown or not updatable."
            )
    merged = type(current)()
    merged.CopyFrom(current)
    field_mask_pb2.FieldMask(paths=paths).MergeMessage(
        update, merged, replace_message_field=True, replace_repeated_field=True
    )
    return merged
