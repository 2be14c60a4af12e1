"""What every `cloud` backend shares: its official clients, created on first use with
`CLOUD_API_ENDPOINT` honoured, and Google's exceptions translated once, at the boundary.

    class CloudBackend:
        def __init__(self, settings):
            self._clients = CloudClients(settings)

        @google_errors
        def annotate_images(self, request):
            return self._clients.get(vision.ImageAnnotatorClient).batch_annotate_images(
                request=request
            )

Clients are created lazily (credentials are looked up then, not at start, so a cold start does
no auth work) and once per class, thread-safely.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from shared.config import Settings
from shared.errors import ApiError, from_google_exception

C = TypeVar("C")
P = ParamSpec("P")
R = TypeVar("R")


class CloudClients:
    """The official clients of one backend, each made on first use with the settings'
    `cloud_client_kwargs()` (regional endpoint; an `http://` stand-in over REST)."""

    def __init__(self, settings: Settings) -> None:
        self._kwargs = settings.cloud_client_kwargs()
        self._clients: dict[type, Any] = {}
        # Protects `_clients` against two first requests at once.
        self._lock = threading.Lock()

    def get(self, client_type: Callable[..., C]) -> C:
        with self._lock:
            client = self._clients.get(client_type)  # type: ignore[call-overload]
            if client is None:
                client = self._clients[client_type] = client_type(**self._kwargs)  # type: ignore[index]
            return client

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.transport.close()
            self._clients.clear()


def google_errors(method: Callable[P, R]) -> Callable[P, R]:
    """Any failure of `method` other than our own `ApiError` comes out as one, in Google's
    terms (`shared.errors.from_google_exception`)."""

    @functools.wraps(method)
    def translated(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except ApiError:
            raise
        except Exception as exc:
            raise from_google_exception(exc) from exc

    return translated
