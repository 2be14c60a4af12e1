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
            raise storage_error(exc, location) from exc

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
            raise storage_error(exc, location) from exc
        return location

    def read_with_generation(self, uri: str | GcsUri) -> tuple[bytes, int] | None:
        """The object's bytes and generation; None when it does not exist."""
        location = uri if isinstance(uri, GcsUri) else parse_gs_uri(uri)
        try:
            blob = (
                self._get_client()
                .bucket(location.bucket)
                .get_blob(location.name, timeout=self._timeout_s, retry=self._retry())
            )
            if blob is None:
                return None
            data = blob.download_as_bytes(timeout=self._timeout_s, retry=self._retry())
            return data, int(blob.generation or 0)
        except Exception as exc:
            error = storage_error(exc, location)
            if error.code == Code.NOT_FOUND:
                return None
            raise error from exc

    def write_checked(
        self, uri: str | GcsUri, data: bytes | str, generation: int, content_type: str
    ) -> GcsUri:
        """Write only if the object is still at `generation` (0: only if it does not exist);
        ABORTED otherwise. (gcp-storage-emulator ignores the precondition.)"""
        from google.api_core import exceptions as core

        location = uri if isinstance(uri, GcsUri) else parse_gs_uri(uri)
        try:
            self._blob(location).upload_from_string(
                data,
                content_type=content_type,
                if_generation_match=generation,
                timeout=self._timeout_s,
            )
        except core.PreconditionFailed:
            raise ApiError(
                Code.ABORTED, f"{location} changed while it was being updated; try again."
            ) from None
        except Exception as exc:
            raise storage_error(exc, location) from exc
        return location

    def delete(self, uri: str | GcsUri) -> bool:
        """Delete the object; False when it did not exist."""
        location = uri if isinstance(uri, GcsUri) else parse_gs_uri(uri)
        try:
            self._blob(location).delete(timeout=self._timeout_s, retry=self._retry())
        except Exception as exc:
            error = storage_error(exc, location)
            if error.code == Code.NOT_FOUND:
                return False
            raise error from exc
        return True

    def list_dir(self, bucket: str, prefix: str) -> tuple[dict[str, int], list[str]]:
        """Objects directly under `prefix` (name -> generation) and its sub-prefixes."""
        try:
            pages = self._get_client().list_blobs(
                bucket, prefix=prefix, delimiter="/", timeout=self._timeout_s
            )
            objects = {blob.name: int(blob.generation or 0) for blob in pages}
            return objects, sorted(pages.prefixes)
        except Exception as exc:
            raise storage_error(exc, GcsUri(bucket, prefix or "/")) from exc

    def ensure_bucket(self, bucket: str) -> None:
        """Create `bucket` if it does not exist (first runs, the emulator)."""
        from google.api_core import exceptions as core

        client = self._get_client()
        try:
            if client.lookup_bucket(bucket, timeout=self._timeout_s) is None:
                client.create_bucket(bucket, timeout=self._timeout_s)
        except core.Conflict:
            pass
        except Exception as exc:
            raise storage_error(exc, GcsUri(bucket, "/")) from exc

    def _retry(self):
        from google.cloud.storage.retry import DEFAULT_RETRY

        # Uploads are retried too: a result object is rewritten whole, so a retry is idempotent.
        return DEFAULT_RETRY.with_timeout(self._timeout_s)

    def _blob(self, location: GcsUri) -> storage.Blob:
        return self._get_client().bucket(location.bucket).blob(location.name)


def storage_error(exc: Exception, location: GcsUri) -> ApiError:
    """A google-cloud-storage (or transport) exception as ApiError, naming the object."""
    from google.api_core import exceptions as core

    if isinstance(exc, core.NotFound):
        return ApiError(Code.NOT_FOUND, f"{location} was not found.")
    if isinstance(exc, core.Forbidden):
        return ApiError(Code.PERMISSION_DENIED, f"No permission to access {location}.")
    if isinstance(exc, core.GoogleAPICallError):
        return from_google_exception(exc)
    # requests/urllib3 connection errors and the like: storage is unreachable, try again later.
    return ApiError(Code.UNAVAILABLE, f"Cloud Storage unavailable for {location}: {exc}")
