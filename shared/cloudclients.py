"""What every `cloud` backend shares: its official clients, created on first use with
`CLOUD_API_ENDPOINT` honoured, and Google's exceptions translated once, at the boundary.

    class CloudBackend:
        def __init__(self, settings):
            self._clients = CloudClients(settings)

        @google_errors
        def annotate_images(self, request):
            client = self._clients.get("google.cloud.vision_v1", "ImageAnnotatorClient")
            return client.batch_annotate_images(request=request)

Clients are created lazily, once per class, thread-safely: the client package is imported and
credentials are looked up on the first call, not at start, so a cold start imports no
transports and does no auth work (the services use the packages' message types alone,
`shared.gapictypes`).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from shared.config import Settings
from shared.errors import ApiError, from_google_exception
from shared.gapictypes import client_class

P = ParamSpec("P")
R = TypeVar("R")


class CloudClients:
    """The official clients of one backend, each made on first use with the settings'
    `cloud_client_kwargs()` (regional endpoint; an `http://` stand-in over REST)."""

    def __init__(self, settings: Settings) -> None:
        self._kwargs = settings.cloud_client_kwargs()
        self._clients: dict[tuple[str, str, str | None], Any] = {}
        # Protects `_clients` against two first requests at once.
        self._lock = threading.Lock()

    def get(self, package: str, name: str, endpoint: str | None = None) -> Any:
        """The client `name` of `package` (`"google.cloud.vision_v1"`, `"ImageAnnotatorClient"`),
        made (and its package imported) on first use; one per `endpoint`, the API's regional
        host (`eu-documentai.googleapis.com`) unless `CLOUD_API_ENDPOINT` overrides them all."""
        key = (package, name, None if self._kwargs else endpoint)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                kwargs = self._kwargs
                if not kwargs and endpoint:
                    from google.api_core.client_options import ClientOptions

                    kwargs = {"client_options": ClientOptions(api_endpoint=endpoint)}
                client = self._clients[key] = client_class(package, name)(**kwargs)
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
