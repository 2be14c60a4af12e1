"""Reading and writing `gs://` objects through google-cloud-storage.

google-cloud-storage honours `STORAGE_EMULATOR_HOST` by itself; then no credentials are needed.
The client is created on first use (again in a forked child). Errors come out as `ApiError`:
NOT_FOUND for a missing object or bucket (retrying will not help), UNAVAILABLE when storage
cannot be reached (it may).

Whole objects: `read`, `write`, `read_with_generation`, `write_checked`. Objects too large to
hold in memory (batch prediction's inputs and outputs):

- `expand(uri)`: an object, a prefix (ending in `/`) or a glob (`*`, `?`, `[...]`, as
  `fnmatch`; `**` is not special) -> the objects, sorted by name, each with its size and
  generation, so a reader can pin exactly the generation it planned with;
- `open_reader(obj, block)`: a seekable binary reader of that generation, fetching ranges of
  `block` bytes (never the whole object);
- `open_writer(uri, ...)`: a resumable upload; the object appears only on `commit()`, and
  `abort()` leaves nothing behind;
- `list_metadata(directory)`: the objects directly in a directory, with their custom metadata.
"""

from __future__ import annotations

import fnmatch
import logging
import os
from collections.abc import Mapping
from typing import IO, TYPE_CHECKING, Any, NamedTuple, Protocol

from shared.errors import ApiError, Code, echo, from_google_exception, invalid_argument
from shared.perprocess import PerProcess

if TYPE_CHECKING:
    from google.cloud import storage

log = logging.getLogger(__name__)


class GcsUri(NamedTuple):
    bucket: str
    name: str

    def __str__(self) -> str:
        return f"gs://{self.bucket}/{self.name}"


def parse_gs_uri(uri: str) -> GcsUri:
    """`gs://bucket/path/to/object` -> GcsUri; anything else is INVALID_ARGUMENT."""
    if not uri.startswith("gs://"):
        raise invalid_argument(f"Not a Cloud Storage URI (gs://bucket/object): {echo(uri)}.")
    bucket, _, name = uri[len("gs://") :].partition("/")
    if not bucket or not name:
        raise invalid_argument(f"Cloud Storage URI needs a bucket and an object name: {echo(uri)}.")
    return GcsUri(bucket, name)


class ObjectInfo(NamedTuple):
    """One object as listed: its URI, size in bytes and generation (pinned by readers)."""

    uri: str
    size: int
    generation: int


class ObjectWriter(Protocol):
    """An object being written: it exists only once `commit()` returns."""

    def write(self, data: bytes) -> None: ...
    def commit(self) -> None: ...
    def abort(self) -> None: ...


GLOB_CHARACTERS = frozenset("*?[")

# The client retries transient failures with backoff; past this many seconds a call gives up
# and reports UNAVAILABLE, so an event is answered (and redelivered) instead of hanging.
DEFAULT_TIMEOUT_S = 30.0


class Storage:
    """Thin, typed access to objects. One instance per process is enough (thread-safe)."""

    def __init__(self, project: str | None = None, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self._project = project
        self._timeout_s = timeout_s
        # Made on first use, and again in a forked child: a client's connection pool must not
        # be shared across processes.
        self._client: PerProcess[storage.Client] = PerProcess(self._new_client)

    def _new_client(self) -> storage.Client:
        from google.cloud import storage

        if os.environ.get("STORAGE_EMULATOR_HOST"):
            from google.auth.credentials import AnonymousCredentials

            return storage.Client(
                project=self._project or "local-project", credentials=AnonymousCredentials()
            )
        return storage.Client(project=self._project)

    def _get_client(self) -> storage.Client:
        return self._client.get()

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

    def expand(self, uri: str) -> list[ObjectInfo]:
        """The objects `uri` names (an object, a prefix ending in '/', or a glob), sorted;
        none when nothing matches."""
        bucket = parse_gs_uri(uri + "x" if uri.endswith("/") else uri).bucket
        name = uri[len(f"gs://{bucket}/") :]
        glob_at = min((name.find(c) for c in GLOB_CHARACTERS if c in name), default=-1)
        try:
            client = self._get_client()
            if glob_at < 0 and not name.endswith("/"):
                blob = client.bucket(bucket).get_blob(
                    name, timeout=self._timeout_s, retry=self._retry()
                )
                if blob is None:
                    return []
                return [ObjectInfo(uri, int(blob.size or 0), int(blob.generation or 0))]
            prefix = name if glob_at < 0 else name[:glob_at]
            found = [
                ObjectInfo(f"gs://{bucket}/{blob.name}", int(blob.size or 0), int(blob.generation))
                for blob in client.list_blobs(bucket, prefix=prefix, timeout=self._timeout_s)
                if not blob.name.endswith("/")
                and (glob_at < 0 or fnmatch.fnmatchcase(blob.name, name))
            ]
            return sorted(found)
        except ApiError:
            raise
        except Exception as exc:
            raise storage_error(exc, GcsUri(bucket, name or "/")) from exc

    def open_reader(self, obj: ObjectInfo, block: int) -> IO[bytes]:
        """A seekable reader of `obj` at its listed generation, fetching `block` bytes a
        request; a newer generation written meanwhile is NOT_FOUND, never mixed in."""
        location = parse_gs_uri(obj.uri)
        blob = (
            self._get_client()
            .bucket(location.bucket)
            .blob(location.name, generation=obj.generation or None)
        )
        return _TranslatingReader(blob.open("rb", chunk_size=block), location)  # type: ignore[return-value]

    def open_writer(
        self,
        uri: str,
        *,
        metadata: Mapping[str, str] | None = None,
        chunk_bytes: int,
        content_type: str = "application/octet-stream",
    ) -> ObjectWriter:
        """A resumable upload of `chunk_bytes` a request (a multiple of 256 KiB); the object,
        with its custom `metadata`, appears whole on `commit()` or not at all."""
        location = parse_gs_uri(uri)
        blob = self._get_client().bucket(location.bucket).blob(location.name)
        blob.metadata = dict(metadata or {})
        return _ResumableWriter(blob, location, chunk_bytes, content_type)

    def list_metadata(self, directory: str) -> dict[str, dict[str, str]]:
        """The objects directly in `directory` (`gs://bucket/path`): file name -> custom
        metadata."""
        location = parse_gs_uri(directory.rstrip("/") + "/x")
        prefix = location.name[:-1]
        try:
            blobs = self._get_client().list_blobs(
                location.bucket, prefix=prefix, delimiter="/", timeout=self._timeout_s
            )
            return {b.name[len(prefix) :]: dict(b.metadata or {}) for b in blobs}
        except Exception as exc:
            raise storage_error(exc, GcsUri(location.bucket, prefix)) from exc

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


class _TranslatingReader:
    """A BlobReader whose failures come out as ApiError."""

    def __init__(self, reader: Any, location: GcsUri) -> None:
        self._reader = reader
        self._location = location

    def read(self, size: int = -1) -> bytes:
        try:
            return self._reader.read(size)
        except Exception as exc:
            raise storage_error(exc, self._location) from exc

    def seek(self, pos: int, whence: int = 0) -> int:
        try:
            return self._reader.seek(pos, whence)
        except Exception as exc:
            raise storage_error(exc, self._location) from exc

    def close(self) -> None:
        self._reader.close()

    def __enter__(self) -> _TranslatingReader:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class _ResumableWriter:
    """A resumable upload: the object exists only once `commit()` finalises it."""

    def __init__(self, blob: Any, location: GcsUri, chunk_bytes: int, content_type: str) -> None:
        self._location = location
        try:
            self._writer = blob.open(
                "wb", chunk_size=chunk_bytes, ignore_flush=True, content_type=content_type
            )
        except Exception as exc:
            raise storage_error(exc, location) from exc

    def write(self, data: bytes) -> None:
        try:
            self._writer.write(data)
        except Exception as exc:
            raise storage_error(exc, self._location) from exc

    def commit(self) -> None:
        try:
            self._writer.close()
        except Exception as exc:
            raise storage_error(exc, self._location) from exc

    def abort(self) -> None:
        # Dropping the writer would not do: a BlobWriter that is closed, or collected, uploads
        # what it holds and finalises the object. `terminate` cancels the upload session
        # instead and closes the buffer, after which closing uploads nothing.
        try:
            self._writer.terminate()
        except Exception as exc:
            log.warning("could not cancel the upload of %s: %s", self._location, exc)
            self._writer._buffer.close()  # never finalise: the session expires by itself
