"""google.pubsub.v1 Publisher, Subscriber and SchemaService, and google.iam.v1.IAMPolicy, over
gRPC through generic handlers.

No generated stubs: each method is registered with the protobuf classes of the installed
google-cloud-pubsub (and grpc-google-iam-v1) as (de)serializers, and dispatched to
:class:`PubsubApi` or :class:`SchemaApi`. The caller's metadata goes to the IAM check first.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

import grpc

from local.pubsub import protos
from local.pubsub.api import MAX_PULL_WAIT, PubsubApi
from local.pubsub.errors import ApiError
from local.pubsub.streaming import StreamingPullSession

log = logging.getLogger("local.pubsub.grpc")

PUBLISHER = "google.pubsub.v1.Publisher"
SUBSCRIBER = "google.pubsub.v1.Subscriber"
SCHEMAS = "google.pubsub.v1.SchemaService"
IAM = "google.iam.v1.IAMPolicy"

# method -> (request class, response class)
UNARY: dict[str, dict[str, tuple[type, type]]] = {
    PUBLISHER: {
        "CreateTopic": (protos.Topic, protos.Topic),
        "UpdateTopic": (protos.UpdateTopicRequest, protos.Topic),
        "Publish": (protos.PublishRequest, protos.PublishResponse),
        "GetTopic": (protos.GetTopicRequest, protos.Topic),
        "ListTopics": (protos.ListTopicsRequest, protos.ListTopicsResponse),
        "ListTopicSubscriptions": (
            protos.ListTopicSubscriptionsRequest,
            protos.ListTopicSubscriptionsResponse,
        ),
        "ListTopicSnapshots": (protos.ListTopicSnapshotsRequest, protos.ListTopicSnapshotsResponse),
        "DeleteTopic": (protos.DeleteTopicRequest, protos.Empty),
        "DetachSubscription": (protos.DetachSubscriptionRequest, protos.DetachSubscriptionResponse),
    },
    SUBSCRIBER: {
        "CreateSubscription": (protos.Subscription, protos.Subscription),
        "GetSubscription": (protos.GetSubscriptionRequest, protos.Subscription),
        "UpdateSubscription": (protos.UpdateSubscriptionRequest, protos.Subscription),
        "ListSubscriptions": (protos.ListSubscriptionsRequest, protos.ListSubscriptionsResponse),
        "DeleteSubscription": (protos.DeleteSubscriptionRequest, protos.Empty),
        "ModifyAckDeadline": (protos.ModifyAckDeadlineRequest, protos.Empty),
        "Acknowledge": (protos.AcknowledgeRequest, protos.Empty),
        "Pull": (protos.PullRequest, protos.PullResponse),
        "ModifyPushConfig": (protos.ModifyPushConfigRequest, protos.Empty),
        "GetSnapshot": (protos.GetSnapshotRequest, protos.Snapshot),
        "ListSnapshots": (protos.ListSnapshotsRequest, protos.ListSnapshotsResponse),
        "CreateSnapshot": (protos.CreateSnapshotRequest, protos.Snapshot),
        "UpdateSnapshot": (protos.UpdateSnapshotRequest, protos.Snapshot),
        "DeleteSnapshot": (protos.DeleteSnapshotRequest, protos.Empty),
        "Seek": (protos.SeekRequest, protos.SeekResponse),
    },
    SCHEMAS: {
        "CreateSchema": (protos.CreateSchemaRequest, protos.Schema),
        "GetSchema": (protos.GetSchemaRequest, protos.Schema),
        "ListSchemas": (protos.ListSchemasRequest, protos.ListSchemasResponse),
        "ListSchemaRevisions": (
            protos.ListSchemaRevisionsRequest,
            protos.ListSchemaRevisionsResponse,
        ),
        "CommitSchema": (protos.CommitSchemaRequest, protos.Schema),
        "RollbackSchema": (protos.RollbackSchemaRequest, protos.Schema),
        "DeleteSchemaRevision": (protos.DeleteSchemaRevisionRequest, protos.Schema),
        "DeleteSchema": (protos.DeleteSchemaRequest, protos.Empty),
        "ValidateSchema": (protos.ValidateSchemaRequest, protos.ValidateSchemaResponse),
        "ValidateMessage": (protos.ValidateMessageRequest, protos.ValidateMessageResponse),
    },
    IAM: {
        "SetIamPolicy": (protos.SetIamPolicyRequest, protos.Policy),
        "GetIamPolicy": (protos.GetIamPolicyRequest, protos.Policy),
        "TestIamPermissions": (protos.TestIamPermissionsRequest, protos.TestIamPermissionsResponse),
    },
}


def _abort(context, exc: Exception):
    if isinstance(exc, ApiError):
        if exc.details:  # rich error details travel in grpc-status-details-bin
            from google.protobuf import any_pb2
            from google.rpc import status_pb2
            from grpc_status import rpc_status

            status = status_pb2.Status(code=exc.code, message=exc.message)
            for detail in exc.details:
                status.details.add().CopyFrom(_pack(any_pb2.Any(), detail))
            context.abort_with_status(rpc_status.to_status(status))
        context.abort(grpc.StatusCode[exc.status], exc.message)
    log.exception("internal error")
    context.abort(grpc.StatusCode.INTERNAL, f"internal error: {exc!r}")


def _pack(wrapper, detail):
    wrapper.Pack(detail)
    return wrapper


def _metadata(context) -> dict[str, str]:
    return {key: value for key, value in context.invocation_metadata() if isinstance(value, str)}


def _unary(api: PubsubApi, name: str, fn):
    def handle(request, context):
        try:
            metadata = _metadata(context)
            api.authorize(name, request, metadata)
            if name == "TestIamPermissions":  # answers for the caller its token names
                return fn(request, metadata)
            return fn(request)
        except Exception as exc:
            _abort(context, exc)

    return handle


def _pull(api: PubsubApi):
    def handle(request, context):
        remaining = context.time_remaining()
        # An empty answer must reach the client before its deadline even on a loaded machine:
        # wait at most half the time left (a fixed 0.5 s margin was missed under load, and the
        # client then raised DeadlineExceeded instead of getting "no messages").
        wait = MAX_PULL_WAIT if remaining is None else max(0.0, min(MAX_PULL_WAIT, remaining / 2))
        try:
            api.authorize("Pull", request, _metadata(context))
            return api.Pull(request, wait=wait, active=context.is_active)
        except Exception as exc:
            _abort(context, exc)

    return handle


def _streaming_pull(api: PubsubApi):
    def handle(requests, context):
        metadata = _metadata(context)

        def authorize(first) -> None:
            api.authorize("StreamingPull", first, metadata)

        try:
            session = StreamingPullSession(api.registry, requests, context, authorize)
            yield from session.responses()
        except Exception as exc:
            if context.is_active():
                _abort(context, exc)

    return handle


def handlers(api: PubsubApi, schema_api) -> list[grpc.GenericRpcHandler]:
    out = []
    for service, methods in UNARY.items():
        table = {}
        target = schema_api if service == SCHEMAS else api
        for name, (request_cls, response_cls) in methods.items():
            fn = _pull(api) if name == "Pull" else _unary(api, name, getattr(target, name))
            table[name] = grpc.unary_unary_rpc_method_handler(
                fn,
                request_deserializer=request_cls.FromString,
                response_serializer=response_cls.SerializeToString,
            )
        if service == SUBSCRIBER:
            table["StreamingPull"] = grpc.stream_stream_rpc_method_handler(
                _streaming_pull(api),
                request_deserializer=protos.StreamingPullRequest.FromString,
                response_serializer=protos.StreamingPullResponse.SerializeToString,
            )
        out.append(grpc.method_handlers_generic_handler(service, table))
    return out


class GrpcServer:
    """A grpc.server on a loopback port of its own; the front door forwards HTTP/2 to it.

    Each StreamingPull holds one worker thread for its life, hence the generous pool (threads
    are only created when needed).
    """

    def __init__(
        self,
        api: PubsubApi,
        schema_api,
        host: str = "127.0.0.1",
        port: int = 0,
        max_workers: int = 128,
    ) -> None:
        self._api = api
        self._schema_api = schema_api
        self._host = host
        self._requested_port = port
        self._max_workers = max_workers
        self._server: grpc.Server | None = None
        self._executor: ThreadPoolExecutor | None = None
        self.port = 0

    def start(self) -> None:
        executor = self._executor = ThreadPoolExecutor(
            max_workers=self._max_workers, thread_name_prefix="pubsub-grpc"
        )
        options = [
            ("grpc.max_receive_message_length", 32 * 1024 * 1024),
            ("grpc.max_send_message_length", 32 * 1024 * 1024),
            ("grpc.so_reuseport", 0),
        ]
        server = grpc.server(
            executor, handlers=handlers(self._api, self._schema_api), options=options
        )
        self.port = server.add_insecure_port(f"{self._host}:{self._requested_port}")
        server.start()
        self._server = server

    def stop(self, grace: float = 0.5) -> None:
        if self._server is not None:
            self._server.stop(grace).wait(grace + 2)
            self._server = None
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
