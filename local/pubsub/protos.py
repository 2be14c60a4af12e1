"""The google.pubsub.v1 protobuf classes, taken from the installed google-cloud-pubsub.

``google.pubsub_v1``'s package ``__init__`` imports both GAPIC clients (api-core, google-auth,
requests...): about 0.3 s and 45 MB that a server does not need. Only ``types/pubsub.py`` holds
the messages, so when the package is not imported yet we load ``google.pubsub_v1.types``
under a bare placeholder package and then remove the placeholder. The loaded modules stay in
``sys.modules``, so a later ``import google.pubsub_v1`` (a client in the same process) runs the
real ``__init__`` and reuses the very same types. No code is generated: we use the raw protobuf
classes behind the proto-plus wrappers (``Type.pb()``), which is also what is fastest.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
import threading
import types

_lock = threading.Lock()  # protects the placeholder swap in sys.modules


class _ReattachTypes(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """When the real ``google.pubsub_v1`` is imported later, gives it back its ``types``.

    The import system only binds a submodule as an attribute of its package when it loads the
    submodule; ours was loaded under the placeholder, so the real package would lack ``.types``.
    """

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "google.pubsub_v1":
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and spec.loader is not None:
            self._loader = spec.loader
            spec.loader = self
        return spec

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        module.types = sys.modules["google.pubsub_v1.types"]
        self._loader.exec_module(module)


def _load_types() -> types.ModuleType:
    with _lock:
        if "google.pubsub_v1.types.pubsub" in sys.modules or "google.pubsub_v1" in sys.modules:
            import google.pubsub_v1.types.pubsub as loaded

            return loaded
        spec = importlib.util.find_spec("google.pubsub_v1")
        if spec is None or not spec.submodule_search_locations:
            raise ImportError("google-cloud-pubsub is not installed")
        placeholder = types.ModuleType("google.pubsub_v1")
        placeholder.__path__ = list(spec.submodule_search_locations)
        sys.modules["google.pubsub_v1"] = placeholder
        try:
            import google.pubsub_v1.types.pubsub as loaded
        finally:
            del sys.modules["google.pubsub_v1"]
            import google

            if getattr(google, "pubsub_v1", None) is placeholder:
                del google.pubsub_v1
            sys.meta_path.insert(0, _ReattachTypes())
        return loaded


_pubsub = _load_types()

Topic = _pubsub.Topic.pb()
Subscription = _pubsub.Subscription.pb()
PushConfig = _pubsub.PushConfig.pb()
PubsubMessage = _pubsub.PubsubMessage.pb()
ReceivedMessage = _pubsub.ReceivedMessage.pb()
DeadLetterPolicy = _pubsub.DeadLetterPolicy.pb()
RetryPolicy = _pubsub.RetryPolicy.pb()
ExpirationPolicy = _pubsub.ExpirationPolicy.pb()

GetTopicRequest = _pubsub.GetTopicRequest.pb()
UpdateTopicRequest = _pubsub.UpdateTopicRequest.pb()
PublishRequest = _pubsub.PublishRequest.pb()
PublishResponse = _pubsub.PublishResponse.pb()
ListTopicsRequest = _pubsub.ListTopicsRequest.pb()
ListTopicsResponse = _pubsub.ListTopicsResponse.pb()
ListTopicSubscriptionsRequest = _pubsub.ListTopicSubscriptionsRequest.pb()
ListTopicSubscriptionsResponse = _pubsub.ListTopicSubscriptionsResponse.pb()
ListTopicSnapshotsRequest = _pubsub.ListTopicSnapshotsRequest.pb()
ListTopicSnapshotsResponse = _pubsub.ListTopicSnapshotsResponse.pb()
DeleteTopicRequest = _pubsub.DeleteTopicRequest.pb()
DetachSubscriptionRequest = _pubsub.DetachSubscriptionRequest.pb()
DetachSubscriptionResponse = _pubsub.DetachSubscriptionResponse.pb()

GetSubscriptionRequest = _pubsub.GetSubscriptionRequest.pb()
UpdateSubscriptionRequest = _pubsub.UpdateSubscriptionRequest.pb()
ListSubscriptionsRequest = _pubsub.ListSubscriptionsRequest.pb()
ListSubscriptionsResponse = _pubsub.ListSubscriptionsResponse.pb()
DeleteSubscriptionRequest = _pubsub.DeleteSubscriptionRequest.pb()
ModifyPushConfigRequest = _pubsub.ModifyPushConfigRequest.pb()
PullRequest = _pubsub.PullRequest.pb()
PullResponse = _pubsub.PullResponse.pb()
ModifyAckDeadlineRequest = _pubsub.ModifyAckDeadlineRequest.pb()
AcknowledgeRequest = _pubsub.AcknowledgeRequest.pb()
StreamingPullRequest = _pubsub.StreamingPullRequest.pb()
StreamingPullResponse = _pubsub.StreamingPullResponse.pb()

GetSnapshotRequest = _pubsub.GetSnapshotRequest.pb()
ListSnapshotsRequest = _pubsub.ListSnapshotsRequest.pb()
CreateSnapshotRequest = _pubsub.CreateSnapshotRequest.pb()
UpdateSnapshotRequest = _pubsub.UpdateSnapshotRequest.pb()
DeleteSnapshotRequest = _pubsub.DeleteSnapshotRequest.pb()
SeekRequest = _pubsub.SeekRequest.pb()
SeekResponse = _pubsub.SeekResponse.pb()
Snapshot = _pubsub.Snapshot.pb()
ListSnapshotsResponse = _pubsub.ListSnapshotsResponse.pb()

_schema = sys.modules["google.pubsub_v1.types.schema"]  # loaded with the types package

Schema = _schema.Schema.pb()
Encoding = _schema.Encoding  # proto-plus enum: Encoding.JSON == 1
CreateSchemaRequest = _schema.CreateSchemaRequest.pb()
GetSchemaRequest = _schema.GetSchemaRequest.pb()
ListSchemasRequest = _schema.ListSchemasRequest.pb()
ListSchemasResponse = _schema.ListSchemasResponse.pb()
ListSchemaRevisionsRequest = _schema.ListSchemaRevisionsRequest.pb()
ListSchemaRevisionsResponse = _schema.ListSchemaRevisionsResponse.pb()
CommitSchemaRequest = _schema.CommitSchemaRequest.pb()
RollbackSchemaRequest = _schema.RollbackSchemaRequest.pb()
DeleteSchemaRevisionRequest = _schema.DeleteSchemaRevisionRequest.pb()
DeleteSchemaRequest = _schema.DeleteSchemaRequest.pb()
ValidateSchemaRequest = _schema.ValidateSchemaRequest.pb()
ValidateSchemaResponse = _schema.ValidateSchemaResponse.pb()
ValidateMessageRequest = _schema.ValidateMessageRequest.pb()
ValidateMessageResponse = _schema.ValidateMessageResponse.pb()

from google.iam.v1 import iam_policy_pb2, policy_pb2  # noqa: E402  (after the types)
from google.protobuf import empty_pb2  # noqa: E402  (after the types, which import protobuf)

Empty = empty_pb2.Empty
Policy = policy_pb2.Policy
GetIamPolicyRequest = iam_policy_pb2.GetIamPolicyRequest
SetIamPolicyRequest = iam_policy_pb2.SetIamPolicyRequest
TestIamPermissionsRequest = iam_policy_pb2.TestIamPermissionsRequest
TestIamPermissionsResponse = iam_policy_pb2.TestIamPermissionsResponse
