"""IAM on topics, subscriptions, snapshots and schemas: policies stored as given, and checked
only when asked to.

GetIamPolicy, SetIamPolicy and TestIamPermissions (``google/iam/v1/iam_policy.proto``) work
as the real service's: a resource without a policy has the empty one (etag ``ACAB``); every
SetIamPolicy gives a new etag, and one whose policy carries an etag that is no longer current
fails with ABORTED (the read-modify-write guard); ``update_mask`` may limit the change to
``bindings``, ``etag`` or ``audit_configs``.

Permissive by default, as the emulator has no notion of who calls: TestIamPermissions grants
everything asked. With ``--enforce-iam``, a caller that presents ``Authorization: Bearer`` with
a token this emulator signed (the kind it sends with OIDC pushes, so a service can call back
with the token it was pushed, or a test can mint one with ``TokenSigner.token``) is
``serviceAccount:EMAIL`` and must hold the permission through a binding of the resource's
policy: ``pubsub.topics.publish`` for Publish, ``pubsub.subscriptions.consume`` for Pull,
StreamingPull, Acknowledge, ModifyAckDeadline and Seek. Callers without such a token stay
unchecked; other RPCs are not checked; REST callers are not checked. Roles are Google's
predefined Pub/Sub and basic roles (custom roles grant nothing here).
"""

from __future__ import annotations

import fnmatch
import os
import threading

from local.pubsub import protos
from local.pubsub.errors import ApiError

EMPTY_ETAG = b"\x00\x20\x01"  # base64 "ACAB", the etag of a resource that never had a policy

_VIEW = ["pubsub.*.get", "pubsub.*.list", "pubsub.topics.listSubscriptions"]
_EDIT = [*_VIEW, "pubsub.topics.*", "pubsub.subscriptions.*", "pubsub.snapshots.*"]
_EDIT += ["pubsub.schemas.*"]
_NOT_EDIT = ("*.getIamPolicy", "*.setIamPolicy")
ROLES: dict[str, list[str]] = {
    "roles/owner": ["pubsub.*"],
    "roles/pubsub.admin": ["pubsub.*"],
    "roles/editor": _EDIT,
    "roles/pubsub.editor": _EDIT,
    "roles/viewer": _VIEW,
    "roles/pubsub.viewer": _VIEW,
    "roles/pubsub.publisher": ["pubsub.topics.publish"],
    "roles/pubsub.subscriber": [
        "pubsub.subscriptions.consume",
        "pubsub.snapshots.seek",
        "pubsub.topics.attachSubscription",
    ],
}


def role_grants(role: str, permission: str) -> bool:
    patterns = ROLES.get(role, [])
    if role.endswith("editor") and any(fnmatch.fnmatchcase(permission, p) for p in _NOT_EDIT):
        return False
    return any(fnmatch.fnmatchcase(permission, pattern) for pattern in patterns)


class PolicyBook:
    def __init__(self, store, signer, enforce: bool = False) -> None:
        self._store = store
        self._signer = signer
        self.enforce = enforce
        # _lock protects _policies (resource name -> google.iam.v1.Policy).
        self._lock = threading.Lock()
        self._policies: dict[str, object] = {}

    def load(self, snapshot) -> None:
        for name, blob in snapshot.resources.get("policy", []):
            self._policies[name] = protos.Policy.FromString(blob)

    def get(self, resource: str):
        with self._lock:
            policy = self._policies.get(resource)
        return policy if policy is not None else protos.Policy(etag=EMPTY_ETAG)

    def set(self, resource: str, policy, update_mask=None):
        current = self.get(resource)
        if policy.etag and policy.etag != current.etag:
            raise ApiError(
                "ABORTED",
                "There were concurrent policy changes. Please retry the whole read-modify-write "
                "with exponential backoff.",
            )
        stored = protos.Policy()
        paths = list(update_mask.paths) if update_mask is not None else []
        if paths:
            stored.CopyFrom(current)
            for path in paths:
                stored.ClearField(path)
                if path in ("bindings", "audit_configs"):
                    getattr(stored, path).extend(getattr(policy, path))
        else:
            stored.CopyFrom(policy)
        stored.version = stored.version or 1
        stored.etag = b"\x07" + os.urandom(7)
        with self._lock:
            self._policies[resource] = stored
        self._store.put_resource("policy", resource, stored.SerializeToString())
        self._store.sync()
        return stored

    def forget(self, resource: str) -> None:
        """A deleted resource takes its policy with it."""
        with self._lock:
            gone = self._policies.pop(resource, None)
        if gone is not None:
            self._store.delete_resource("policy", resource)

    def test(self, resource: str, permissions: list[str], caller: str | None) -> list[str]:
        if not self.enforce or caller is None:
            return list(permissions)
        return [p for p in permissions if self._allowed(resource, p, caller)]

    def _allowed(self, resource: str, permission: str, member: str) -> bool:
        policy = self.get(resource)
        return any(
            member in binding.members and role_grants(binding.role, permission)
            for binding in policy.bindings
        )

    def caller(self, metadata: dict[str, str]) -> str | None:
        """``serviceAccount:EMAIL`` of a caller with a token this emulator signed, else None."""
        header = metadata.get("authorization", "")
        if not header.lower().startswith("bearer "):
            return None
        from google.auth import jwt

        try:
            claims = jwt.decode(header[7:].strip(), certs=self._signer.pem_certs(), verify=True)
        except (ValueError, KeyError):
            return None  # not one of ours (a real Google token, or none): unchecked
        email = claims.get("email")
        return f"serviceAccount:{email}" if email else None

    def check(self, resource: str, permission: str, metadata: dict[str, str]) -> None:
        """PERMISSION_DENIED when enforcing and a known caller lacks ``permission``."""
        if not self.enforce:
            return
        member = self.caller(metadata)
        if member is not None and not self._allowed(resource, permission, member):
            raise ApiError(
                "PERMISSION_DENIED",
                f"User not authorized to perform this action. ({member} lacks {permission} on "
                f"{resource})",
            )
