"""The emulator as one object: collaborators wired together, started and stopped in order.

::

    Emulator
      store      SqliteStore (data_dir) | MemoryStore      durable state, group commit
      timer      Timer                                     ack deadlines, backoffs
      signer     TokenSigner                               OIDC tokens for push, certs
      schemas    SchemaBook                                schemas, revisions, publish checks
      registry   ResourceRegistry -> SubscriptionQueue per sub     resources, fan-out, dead letters
                          -> Pusher per push sub           HTTP delivery, adaptive window
      snapshots  SnapshotBook                              snapshots, Seek
      retention  Retention                                 expiry of retained messages
      policies   PolicyBook                                IAM policies (checked on request)
      api        PubsubApi, SchemaApi                      one method per RPC
      grpc       GrpcServer (loopback, own port)           google.pubsub.v1 over gRPC
      frontend   Frontend (host:port) + RestApp            one public port: gRPC and REST

Use::

    emu = Emulator("127.0.0.1", 0).start()   # port 0: any free port, see emu.port
    ... PUBSUB_EMULATOR_HOST=emu.target ...
    emu.stop()
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from local.pubsub.api import PubsubApi
from local.pubsub.frontend import Frontend
from local.pubsub.grpc_service import GrpcServer
from local.pubsub.iam import PolicyBook
from local.pubsub.oidc import TokenSigner
from local.pubsub.pusher import Pusher
from local.pubsub.registry import ResourceRegistry
from local.pubsub.rest import RestApp
from local.pubsub.retention import Retention
from local.pubsub.schema_api import SchemaApi
from local.pubsub.schemas import SchemaBook
from local.pubsub.snapshots import SnapshotBook
from local.pubsub.store import MemoryStore, SqliteStore
from local.pubsub.timer import Timer

log = logging.getLogger("local.pubsub")

# Google's push backoff when a push subscription has no retry policy: pushing pauses for
# 100 ms to 60 s after failures (cloud.google.com/pubsub/docs/push, "Push backoff").
DEFAULT_PUSH_RETRY = (0.1, 60.0)


@dataclass
class Settings:
    host: str = "127.0.0.1"
    port: int = 8085
    data_dir: str | None = None
    push_retry_min: float = DEFAULT_PUSH_RETRY[0]
    push_retry_max: float = DEFAULT_PUSH_RETRY[1]
    push_concurrency: int = 8
    enforce_iam: bool = False


class Emulator:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 8085,
        data_dir: str | None = None,
        *,
        push_retry_min: float = DEFAULT_PUSH_RETRY[0],
        push_retry_max: float = DEFAULT_PUSH_RETRY[1],
        push_concurrency: int = 8,
        enforce_iam: bool = False,
    ) -> None:
        self.settings = Settings(
            host, port, data_dir, push_retry_min, push_retry_max, push_concurrency, enforce_iam
        )
        self.store = SqliteStore(data_dir) if data_dir else MemoryStore()
        self.timer = Timer()
        self.signer = TokenSigner()
        self.schemas = SchemaBook(self.store)
        self.registry = ResourceRegistry(
            self.store, self.timer, pusher_factory=self._make_pusher, schemas=self.schemas
        )
        self.schemas.on_delete = self.registry.schema_deleted
        self.snapshots = SnapshotBook(self.registry, self.store)
        self.registry.snapshots = self.snapshots
        self.retention = Retention(self.registry, self.snapshots, self.store, self.timer)
        self.policies = PolicyBook(self.store, self.signer, enforce_iam)
        self.api = PubsubApi(self.registry, self.snapshots, self.policies)
        self.schema_api = SchemaApi(self.schemas, self.policies)
        self.grpc = GrpcServer(self.api, self.schema_api)
        self.frontend: Frontend | None = None
        self.started_at = 0.0

    @property
    def port(self) -> int:
        return self.frontend.port if self.frontend else self.settings.port

    @property
    def target(self) -> str:
        """host:port, what PUBSUB_EMULATOR_HOST should hold."""
        return f"{self.settings.host}:{self.port}"

    def _make_pusher(self, sub) -> Pusher:
        backoff = (self.settings.push_retry_min, self.settings.push_retry_max)
        return Pusher(sub, self.signer, self.settings.push_concurrency, backoff)

    def start(self) -> Emulator:
        began = time.monotonic()
        self.signer.start()
        snapshot = self.store.start()
        self.timer.start()
        self.schemas.load(snapshot)
        self.registry.load(snapshot)
        self.snapshots.load(snapshot)
        self.policies.load(snapshot)
        self.retention.start()
        self.grpc.start()
        self.frontend = Frontend(
            self.settings.host,
            self.settings.port,
            self.grpc.port,
            RestApp(self.api, self.signer, self.schema_api),
        )
        self.frontend.start()
        self.started_at = time.monotonic() - began
        log.info("Server started, listening on %d", self.frontend.port)
        return self

    def stop(self) -> None:
        if self.frontend is not None:
            self.frontend.stop()
        self.retention.stop()
        self.registry.stop()
        self.grpc.stop()
        self.timer.stop()
        self.store.stop()
        self.signer.stop()
        log.info("Server stopped")

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
