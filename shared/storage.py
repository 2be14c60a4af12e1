"""Reading and writing `gs://` objects through google-cloud-storage.

google-cloud-storage honours `STORAGE_EMULATOR_HOST` by itself; then no credentials are needed.
The client is created on first use. Errors come out as `ApiError`: NOT_FOUND for a missing
object or bucket (retrying will not help), UNAVAILABLE when storage cannot be reached (it may).
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, NamedTuple

from shared.errors import ApiError, Code, from_google_exception, invalid_argument

if TYPE_CHECKING:
    from google.cloud import storage


class GcsUri(NamedTuple):
    bucket: str
    name: str

    def __str__(self) -> str:
        return f"gs://{self.bucket}/{self.name}"


def parse_gs_uri(uri: str) -> GcsUri:
    """`gs://bucket/path/to/object` -> GcsUri; anything else is INVALID_ARGUMENT."""
    if not uri.startswith("gs://"):
        raise invalid_argument(f"Not a Cloud Storage URI (gs://bucket/object): {uri!r}.")
    bucket, _, name = uri[len("gs://") :].partition("/")
    if not bucket or not name:
        raise invalid_argument(f"Cloud Storage URI needs a bucket and an object name: {uri!r}.")
    return GcsUri(bucket, name)


# The client retries transient failures with backoff; past this many seconds a call gives up
# and reports UNAVAILABLE, so an event is answered (and redelivered) instead of hanging.
DEFAULT_TIMEOUT_S = 30.0


class Storage:
    """Thin, typed access to objects. One instance per process is enough (thread-safe)."""

    def __init__(self, project: str | None = None, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self._project = project
        self._timeout_s = timeout_s
        self._client: storage.Client | None = None
        # Protects the lazy creation of `_client`.
        self._lock = threading.Lock()

    def _get_client(self) -> storage.Client:
        with self._lock:
            if self._client is None:
                from google.cloud import storage

                if os.environ.get("STORAGE_EMULATOR_HOST"):
                    from google.auth.credentials import AnonymousCredentials

                    self._client = storage.Client(
                        project=self._project or "local-project",
                        credentials=AnonymousCredentials(),
                    )
                else:
                    self._client = storage.Client(project=self._project)
            return self._client

    def read(self, uri: str | GcsUri, *, max_bytes: int | None = None) -> bytes:
        """The object's bytes. With `max_bytes`, a larger object is INVALID_ARGUMENT unread."""
        location = uri if isinstance(uri, GcsUri) else parse_gs_uri(uri)
        blob = self._blob(location)
        try:
            if max_bytes is not None:
                blob.reload(timeout=self._timeout_s, retry=self._retry())
                if blob.size is not None and blob.size > max_bytes:
                    raise invalid_argument(
                        f"{location} is {blob.size} bytes; the limit is {max_bytes} bytes."
                    )
            return blob.download_as_bytes(timeout=self._timeout_s, retry=self._retry())
        except ApiError:
            raise
        except Exception as exc:
            raise _translate(exc, location) from exc

    def write(
        self,
        uri: str | GcsUri,
        data: bytes | str,
        content_type: str = "application/octet-stream",
    ) -> GcsUri:
        location = uri if isinstance(uri, GcsUri) else parse_gs_uri(uri)
        try:
            self._blob(location).upload_from_string(
                data, content_type=content_type, timeout=self._timeout_s, retry=self._retry()
            )
        except Exception as exc:
            raise _translate(exc, location) from exc
        return location

    def _retry(self):
        from google.cloud.storage.retry import DEFAULT_RETRY

        # Uploads are retried too: a result object is rewritten whole, so a retry is idempotent.
        return DEFAULT_RETRY.with_timeout(self._timeout_s)

    def _blob(self, location: GcsUri) -> storage.Blob:
        return self._get_client().bucket(location.bucket).blob(location.name)


def _translate(exc: Exception, location: GcsUri) -> ApiError:
    from google.api_core import exceptions as core

    if isinstance(exc, core.NotFound):
        return ApiError(Code.NOT_FOUND, f"{location} was not found.")
    if isinstance(exc, core.Forbidden):
        return ApiError(Code.PERMISSION_DENIED, f"No permission to access {location}.")
    if isinstance(exc, core.GoogleAPICallError):
        return from_google_exception(exc)
    # requests/urllib3 connection errors and the like: storage is unreachable, try again later.
    return ApiError(Code.UNAVAILABLE, f"Cloud Storage unavailable for {location}: {exc}")
