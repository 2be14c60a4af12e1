"""The emulator as one object: collaborators wired together, started and stopped in order.

::

    Emulator
      store      SqliteStore (data_dir) | MemoryStore      durable state, group commit
      timer      Timer                                     ack deadlines, backoffs
      signer     TokenSigner                               OIDC tokens for push, certs
      registry   Registry -> SubscriptionQueue per sub     resources, fan-out, dead letters
                          -> Pusher per push sub           HTTP delivery
      api        PubsubApi                                 one method per RPC
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
from local.pubsub.oidc import TokenSigner
from local.pubsub.pusher import Pusher
from local.pubsub.registry import Registry
from local.pubsub.rest import RestApp
from local.pubsub.store import MemoryStore, SqliteStore
from local.pubsub.timer import Timer

log = logging.getLogger("local.pubsub")

# The real service's push backoff when a push subscription has no retry policy.
DEFAULT_PUSH_RETRY = (10.0, 600.0)


@dataclass
class Settings:
    host: str = "127.0.0.1"
    port: int = 8085
    data_dir: str | None = None
    push_retry_min: float = DEFAULT_PUSH_RETRY[0]
    push_retry_max: float = DEFAULT_PUSH_RETRY[1]
    push_concurrency: int = 8


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
    ) -> None:
        self.settings = Settings(
            host, port, data_dir, push_retry_min, push_retry_max, push_concurrency
        )
        self.store = SqliteStore(data_dir) if data_dir else MemoryStore()
        self.timer = Timer()
        self.signer = TokenSigner()
        self.registry = Registry(
            self.store,
            self.timer,
            (push_retry_min, push_retry_max),
            pusher_factory=self._make_pusher,
        )
        self.api = PubsubApi(self.registry)
        self.grpc = GrpcServer(self.api)
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
        return Pusher(sub, self.signer, self.settings.push_concurrency)

    def start(self) -> Emulator:
        began = time.monotonic()
        self.signer.start()
        snapshot = self.store.start()
        self.timer.start()
        self.registry.load(snapshot)
        self.grpc.start()
        self.frontend = Frontend(
            self.settings.host, self.settings.port, self.grpc.port, RestApp(self.api, self.signer)
        )
        self.frontend.start()
        self.started_at = time.monotonic() - began
        log.info("Server started, listening on %d", self.frontend.port)
        return self

    def stop(self) -> None:
        if self.frontend is not None:
            self.frontend.stop()
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
