"""The REST/JSON surface of pubsub.googleapis.com v1, on the same :class:`PubsubApi` and
:class:`SchemaApi` as gRPC: topics, subscriptions, snapshots and Seek, schemas, IAM.

Paths and bodies are Google's (``PUT /v1/projects/p/topics/t``,
``POST /v1/projects/p/subscriptions/s:pull`` ...), JSON is protobuf's JSON mapping (camelCase,
empty fields left out), errors are ``{"error": {"code", "message", "status"}}``. When the query
asks for ``enum-encoding=int`` (the generated REST clients do), enums are numbers. Besides
the API: ``GET /`` answers ``Ok`` as the official emulator does, and ``GET /oauth2/v1/certs`` /
``GET /oauth2/v3/certs`` serve the public key of the push OIDC tokens, and
``GET /_emulator/stats`` (not Google's: Pub/Sub has no backlog API, Cloud Monitoring has
``num_undelivered_messages``) gives each subscription's backlog for ``mlapi status``.

:meth:`RestApp.handle` is transport-free: (method, target, body) in, (status, headers, body)
out; the front door feeds it from HTTP/1.1 connections.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from urllib.parse import parse_qs, unquote, urlsplit

from google.protobuf import json_format

from local.pubsub import protos
from local.pubsub.api import PubsubApi
from local.pubsub.errors import ApiError, invalid

log = logging.getLogger("local.pubsub.rest")

Response = tuple[int, dict[str, str], bytes]
_JSON = {"Content-Type": "application/json; charset=UTF-8"}

_SEG = r"([^/:]+)"
_IAM = r"(getIamPolicy|setIamPolicy|testIamPermissions)"
_ROUTES: list[tuple[re.Pattern, str]] = [
    (re.compile(rf"/v1/projects/{_SEG}/topics"), "topics"),
    (re.compile(rf"/v1/projects/{_SEG}/topics/{_SEG}"), "topic"),
    (re.compile(rf"/v1/projects/{_SEG}/topics/{_SEG}:publish"), "publish"),
    (re.compile(rf"/v1/projects/{_SEG}/topics/{_SEG}/subscriptions"), "topic_subscriptions"),
    (re.compile(rf"/v1/projects/{_SEG}/topics/{_SEG}/snapshots"), "topic_snapshots"),
    (
        re.compile(rf"/v1/projects/{_SEG}/(topics|subscriptions|snapshots|schemas)/{_SEG}:{_IAM}"),
        "iam",
    ),
    (re.compile(rf"/v1/projects/{_SEG}/subscriptions"), "subscriptions"),
    (re.compile(rf"/v1/projects/{_SEG}/subscriptions/{_SEG}"), "subscription"),
    (re.compile(rf"/v1/projects/{_SEG}/subscriptions/{_SEG}:(\w+)"), "subscription_action"),
    (re.compile(rf"/v1/projects/{_SEG}/snapshots"), "snapshots"),
    (re.compile(rf"/v1/projects/{_SEG}/snapshots/{_SEG}"), "snapshot"),
    (re.compile(rf"/v1/projects/{_SEG}/schemas"), "schemas"),
    (re.compile(rf"/v1/projects/{_SEG}/schemas:(validate|validateMessage)"), "schemas_action"),
    (re.compile(rf"/v1/projects/{_SEG}/schemas/{_SEG}"), "schema"),
    (re.compile(rf"/v1/projects/{_SEG}/schemas/{_SEG}:(\w+)"), "schema_action"),
]


class RestApp:
    def __init__(self, api: PubsubApi, signer, schema_api=None) -> None:
        self._api = api
        self._signer = signer
        self._schema_api = schema_api

    def handle(self, method: str, target: str, body: bytes) -> Response:
        url = urlsplit(target)
        query = parse_qs(url.query)
        ints = "enum-encoding=int" in unquote(url.query)
        try:
            if url.path == "/" and method == "GET":
                return 200, {"Content-Type": "text/plain"}, b"Ok\n"
            if url.path == "/oauth2/v1/certs" and method == "GET":
                return 200, _JSON, json.dumps(self._signer.pem_certs()).encode()
            if url.path == "/oauth2/v3/certs" and method == "GET":
                return 200, _JSON, json.dumps(self._signer.jwks()).encode()
            if url.path == "/_emulator/stats" and method == "GET":
                stats = {"subscriptions": self._api.registry.stats()}
                return 200, _JSON, json.dumps(stats).encode()
            for pattern, route in _ROUTES:
                match = pattern.fullmatch(url.path)
                if match:
                    args = [unquote(g) for g in match.groups() if g is not None]
                    handler: Callable = getattr(self, f"_{route}")
                    result = handler(method, args, _body(body), query)
                    return 200, _JSON, _dump(result, ints)
            raise ApiError("NOT_FOUND", f"No route for {method} {url.path}.")
        except ApiError as exc:
            return exc.http_status, _JSON, json.dumps(exc.to_json()).encode()
        except Exception as exc:
            log.exception("internal error on %s %s", method, target)
            error = ApiError("INTERNAL", f"internal error: {exc!r}")
            return 500, _JSON, json.dumps(error.to_json()).encode()

    # -- routes ---------------------------------------------------------------------------------

    def _topics(self, method, args, body, query):
        _allow(method, "GET")
        return self._api.ListTopics(
            protos.ListTopicsRequest(project=f"projects/{args[0]}", **_paging(query))
        )

    def _topic(self, method, args, body, query):
        name = f"projects/{args[0]}/topics/{args[1]}"
        if method == "PUT":
            topic = _parse(body, protos.Topic())
            topic.name = name
            return self._api.CreateTopic(topic)
        if method == "GET":
            return self._api.GetTopic(protos.GetTopicRequest(topic=name))
        if method == "PATCH":
            request = _parse(body, protos.UpdateTopicRequest())
            request.topic.name = request.topic.name or name
            if request.topic.name != name:
                raise invalid("The topic name in the body does not match the URL.")
            return self._api.UpdateTopic(request)
        _allow(method, "DELETE")
        return self._api.DeleteTopic(protos.DeleteTopicRequest(topic=name))

    def _publish(self, method, args, body, query):
        _allow(method, "POST")
        request = _parse(body, protos.PublishRequest())
        request.topic = f"projects/{args[0]}/topics/{args[1]}"
        return self._api.Publish(request)

    def _topic_subscriptions(self, method, args, body, query):
        _allow(method, "GET")
        return self._api.ListTopicSubscriptions(
            protos.ListTopicSubscriptionsRequest(
                topic=f"projects/{args[0]}/topics/{args[1]}", **_paging(query)
            )
        )

    def _subscriptions(self, method, args, body, query):
        _allow(method, "GET")
        return self._api.ListSubscriptions(
            protos.ListSubscriptionsRequest(project=f"projects/{args[0]}", **_paging(query))
        )

    def _subscription(self, method, args, body, query):
        name = f"projects/{args[0]}/subscriptions/{args[1]}"
        if method == "PUT":
            sub = _parse(body, protos.Subscription())
            sub.name = name
            return self._api.CreateSubscription(sub)
        if method == "GET":
            return self._api.GetSubscription(protos.GetSubscriptionRequest(subscription=name))
        if method == "PATCH":
            request = _parse(body, protos.UpdateSubscriptionRequest())
            request.subscription.name = request.subscription.name or name
            if request.subscription.name != name:
                raise invalid("The subscription name in the body does not match the URL.")
            return self._api.UpdateSubscription(request)
        _allow(method, "DELETE")
        return self._api.DeleteSubscription(protos.DeleteSubscriptionRequest(subscription=name))

    _ACTIONS = {
        "pull": (protos.PullRequest, "Pull"),
        "acknowledge": (protos.AcknowledgeRequest, "Acknowledge"),
        "modifyAckDeadline": (protos.ModifyAckDeadlineRequest, "ModifyAckDeadline"),
        "modifyPushConfig": (protos.ModifyPushConfigRequest, "ModifyPushConfig"),
        "detach": (protos.DetachSubscriptionRequest, "DetachSubscription"),
        "seek": (protos.SeekRequest, "Seek"),
    }

    def _subscription_action(self, method, args, body, query):
        name = f"projects/{args[0]}/subscriptions/{args[1]}"
        action = args[2]
        if action not in self._ACTIONS:
            raise ApiError("NOT_FOUND", f"No route for {method} :{action}.")
        _allow(method, "POST")
        request_cls, rpc = self._ACTIONS[action]
        request = _parse(body, request_cls())
        request.subscription = name
        return getattr(self._api, rpc)(request)

    def _topic_snapshots(self, method, args, body, query):
        _allow(method, "GET")
        return self._api.ListTopicSnapshots(
            protos.ListTopicSnapshotsRequest(
                topic=f"projects/{args[0]}/topics/{args[1]}", **_paging(query)
            )
        )

    def _snapshots(self, method, args, body, query):
        _allow(method, "GET")
        return self._api.ListSnapshots(
            protos.ListSnapshotsRequest(project=f"projects/{args[0]}", **_paging(query))
        )

    def _snapshot(self, method, args, body, query):
        name = f"projects/{args[0]}/snapshots/{args[1]}"
        if method == "PUT":
            request = _parse(body, protos.CreateSnapshotRequest())
            request.name = name
            return self._api.CreateSnapshot(request)
        if method == "GET":
            return self._api.GetSnapshot(protos.GetSnapshotRequest(snapshot=name))
        if method == "PATCH":
            request = _parse(body, protos.UpdateSnapshotRequest())
            request.snapshot.name = request.snapshot.name or name
            return self._api.UpdateSnapshot(request)
        _allow(method, "DELETE")
        return self._api.DeleteSnapshot(protos.DeleteSnapshotRequest(snapshot=name))

    def _iam(self, method, args, body, query):
        resource = f"projects/{args[0]}/{args[1]}/{args[2]}"
        if args[3] == "getIamPolicy":
            return self._api.GetIamPolicy(protos.GetIamPolicyRequest(resource=resource))
        _allow(method, "POST")
        if args[3] == "setIamPolicy":
            request = _parse(body, protos.SetIamPolicyRequest())
            request.resource = resource
            return self._api.SetIamPolicy(request)
        request = _parse(body, protos.TestIamPermissionsRequest())
        request.resource = resource
        return self._api.TestIamPermissions(request)

    def _schemas(self, method, args, body, query):
        parent = f"projects/{args[0]}"
        if method == "POST":
            schema = _parse(body, protos.Schema())
            schema_id = query.get("schemaId", [""])[0]
            request = protos.CreateSchemaRequest(parent=parent, schema_id=schema_id)
            request.schema.CopyFrom(schema)
            return self._schema_api.CreateSchema(request)
        _allow(method, "GET")
        return self._schema_api.ListSchemas(
            protos.ListSchemasRequest(parent=parent, view=_view(query), **_paging(query))
        )

    def _schemas_action(self, method, args, body, query):
        _allow(method, "POST")
        parent = f"projects/{args[0]}"
        if args[1] == "validate":
            request = _parse(body, protos.ValidateSchemaRequest())
            request.parent = parent
            return self._schema_api.ValidateSchema(request)
        request = _parse(body, protos.ValidateMessageRequest())
        request.parent = parent
        return self._schema_api.ValidateMessage(request)

    def _schema(self, method, args, body, query):
        name = f"projects/{args[0]}/schemas/{args[1]}"
        if method == "GET":
            return self._schema_api.GetSchema(protos.GetSchemaRequest(name=name, view=_view(query)))
        _allow(method, "DELETE")
        return self._schema_api.DeleteSchema(protos.DeleteSchemaRequest(name=name))

    def _schema_action(self, method, args, body, query):
        name = f"projects/{args[0]}/schemas/{args[1]}"
        action = args[2]
        if action == "listRevisions":
            _allow(method, "GET")
            return self._schema_api.ListSchemaRevisions(
                protos.ListSchemaRevisionsRequest(name=name, view=_view(query), **_paging(query))
            )
        if action == "deleteRevision":
            _allow(method, "DELETE")
            revision = query.get("revisionId", [""])[0]
            return self._schema_api.DeleteSchemaRevision(
                protos.DeleteSchemaRevisionRequest(name=name, revision_id=revision)
            )
        _allow(method, "POST")
        if action == "commit":
            request = _parse(body, protos.CommitSchemaRequest())
        elif action == "rollback":
            request = _parse(body, protos.RollbackSchemaRequest())
        else:
            raise ApiError("NOT_FOUND", f"No route for {method} :{action}.")
        request.name = name
        return getattr(self._schema_api, f"{action.capitalize()}Schema")(request)


def _allow(method: str, expected: str) -> None:
    if method != expected:
        raise ApiError("NOT_FOUND", f"Method {method} is not allowed here; use {expected}.")


def _paging(query: dict) -> dict:
    out = {}
    if "pageSize" in query:
        try:
            out["page_size"] = int(query["pageSize"][0])
        except ValueError:
            raise invalid("pageSize must be an integer.") from None
    if "pageToken" in query:
        out["page_token"] = query["pageToken"][0]
    return out


def _view(query: dict) -> int:
    """The ``view`` query parameter (BASIC/FULL, or its number) as the SchemaView value."""
    value = query.get("view", ["0"])[0]
    return {"BASIC": 1, "FULL": 2}.get(value, int(value) if value.isdigit() else 0)


def _body(raw: bytes) -> dict:
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise invalid(f"Invalid JSON payload received. {exc}") from None
    if not isinstance(value, dict):
        raise invalid("Invalid JSON payload received. The body must be a JSON object.")
    return value


def _parse(body: dict, message):
    try:
        return json_format.ParseDict(body, message)
    except json_format.ParseError as exc:
        raise invalid(f"Invalid JSON payload received. {exc}") from None


def _dump(message, ints: bool) -> bytes:
    data = json_format.MessageToDict(message, use_integers_for_enums=ints)
    return json.dumps(data).encode()
