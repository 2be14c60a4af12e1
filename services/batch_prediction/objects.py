"""Input and output objects for batch jobs: listing, ranged streaming reads, and writes that
appear whole or not at all. `gs://` through google-cloud-storage (which honours
`STORAGE_EMULATOR_HOST`); `file://` on the local disk, for development and benchmarks only
(`ALLOW_LOCAL_FILES`).

- `expand(uri)`: an object, a prefix (ending in `/`) or a glob (`*`, `?`, `[...]`, as
  `fnmatch`; `**` is not special) -> the objects, sorted by name, each with its size and
  generation, so a job reads exactly the generations it planned with even if they change.
- `open_reader(obj)`: a seekable binary reader of that generation, fetching ranges of
  `block` bytes (never the whole object).
- `open_writer(uri, metadata)`: a resumable upload (`gs://`) or a temporary file (`file://`);
  `commit()` makes the object appear, `abort()` leaves nothing behind.
- `list_dir(uri)`: the objects directly in an output directory, with their custom metadata.

Errors are `ApiError`s: NOT_FOUND, PERMISSION_DENIED, UNAVAILABLE (see `shared.storage`).
"""

from __future__ import annotations

import fnmatch
import os
import threading
from pathlib import Path
from typing import IO, Any, NamedTuple, Protocol

from shared.errors import ApiError, Code, invalid_argument
from shared.storage import GcsUri, parse_gs_uri, storage_error

_GLOB = frozenset("*?[")


class ObjectInfo(NamedTuple):
    uri: str
    size: int
    generation: int


class Writer(Protocol):
    def write(self, data: bytes) -> Any: ...
    def commit(self) -> None: ...
    def abort(self) -> None: ...


class Objects:
    """Object access for one process (thread-safe; the client is created on first use)."""

    def __init__(self, project: str | None = None, *, allow_local_files: bool = False) -> None:
        self._project = project
        self._allow_local = allow_local_files
        self._client: Any = None
        self._client_pid = 0
        # Protects the lazy creation of `_client` (recreated after a fork).
        self._lock = threading.Lock()

    # -- uris ------------------------------------------------------------------------------

    def check_uri(self, uri: str, what: str) -> None:
        if uri.startswith("gs://"):
            parse_gs_uri(uri if not uri.endswith("/") else uri + "x")
            return
        if uri.startswith("file://") and self._allow_local:
            return
        allowed = "gs://" + (" or file://" if self._allow_local else "")
        raise invalid_argument(f"{what} must be a {allowed} URI, got {uri!r}.")

    # -- listing ---------------------------------------------------------------------------

    def expand(self, uri: str) -> list[ObjectInfo]:
        """The objects `uri` names (an object, a prefix ending in '/', or a glob)."""
        self.check_uri(uri, "An input URI")
        if uri.startswith("file://"):
            return _expand_local(uri[len("file://") :])
        bucket, _, name = uri[len("gs://") :].partition("/")
        glob_at = min((name.find(c) for c in _GLOB if c in name), default=-1)
        try:
            client = self._get_client()
            if glob_at < 0 and not name.endswith("/"):
                blob = client.bucket(bucket).get_blob(name)
                if blob is None:
                    return []
                return [ObjectInfo(uri, int(blob.size or 0), int(blob.generation or 0))]
            prefix = name if glob_at < 0 else name[:glob_at]
            found = []
            for blob in client.list_blobs(bucket, prefix=prefix):
                if blob.name.endswith("/"):
                    continue
                if glob_at >= 0 and not fnmatch.fnmatchcase(blob.name, name):
                    continue
                found.append(
                    ObjectInfo(
                        f"gs://{bucket}/{blob.name}", int(blob.size or 0), int(blob.generation)
                    )
                )
            return sorted(found)
        except ApiError:
            raise
        except Exception as exc:
            raise storage_error(exc, GcsUri(bucket, name or "/")) from exc

    def list_dir(self, uri: str) -> dict[str, dict[str, str]]:
        """Objects directly under directory `uri` (file name -> custom metadata)."""
        if uri.startswith("file://"):
            path = Path(uri[len("file://") :])
            if not path.is_dir():
                return {}
            return {p.name: {} for p in path.iterdir() if p.is_file()}
        location = parse_gs_uri(uri.rstrip("/") + "/x")
        prefix = location.name[:-1]
        try:
            blobs = self._get_client().list_blobs(location.bucket, prefix=prefix, delimiter="/")
            return {b.name[len(prefix) :]: dict(b.metadata or {}) for b in blobs}
        except Exception as exc:
            raise storage_error(exc, GcsUri(location.bucket, prefix)) from exc

    # -- reading and writing ---------------------------------------------------------------

    def open_reader(self, obj: ObjectInfo, block: int) -> IO[bytes]:
        if obj.uri.startswith("file://"):
            try:
                return open(obj.uri[len("file://") :], "rb")
            except FileNotFoundError:
                raise ApiError(Code.NOT_FOUND, f"{obj.uri} was not found.") from None
        location = parse_gs_uri(obj.uri)
        blob = (
            self._get_client()
            .bucket(location.bucket)
            .blob(location.name, generation=obj.generation or None)
        )
        return _TranslatingReader(blob.open("rb", chunk_size=block), location)

    def read(self, uri: str, max_bytes: int) -> bytes:
        """A small object whole (a file list, a CSV header); larger is INVALID_ARGUMENT."""
        objs = self.expand(uri)
        if not objs:
            raise ApiError(Code.NOT_FOUND, f"{uri} was not found.")
        if objs[0].size > max_bytes:
            raise invalid_argument(f"{uri} is {objs[0].size} bytes; the limit is {max_bytes}.")
        with self.open_reader(objs[0], max_bytes or 1) as reader:
            return reader.read()

    def open_writer(
        self, uri: str, metadata: dict[str, str], *, chunk_bytes: int, content_type: str
    ) -> Writer:
        if uri.startswith("file://"):
            return _LocalWriter(Path(uri[len("file://") :]))
        location = parse_gs_uri(uri)
        blob = self._get_client().bucket(location.bucket).blob(location.name)
        blob.metadata = metadata
        return _GcsWriter(blob, location, chunk_bytes, content_type)

    def _get_client(self) -> Any:
        with self._lock:
            if self._client is None or self._client_pid != os.getpid():
                from google.cloud import storage

                if os.environ.get("STORAGE_EMULATOR_HOST"):
                    from google.auth.credentials import AnonymousCredentials

                    self._client = storage.Client(
                        project=self._project or "local-project",
                        credentials=AnonymousCredentials(),
                    )
                else:
                    self._client = storage.Client(project=self._project)
                self._client_pid = os.getpid()
            return self._client


def _expand_local(pattern: str) -> list[ObjectInfo]:
    path = Path(pattern)
    if any(c in pattern for c in _GLOB):
        paths = [Path(p) for p in sorted(map(str, Path("/").glob(pattern.lstrip("/"))))]
    elif pattern.endswith("/"):
        paths = sorted(p for p in path.rglob("*") if p.is_file())
    else:
        paths = [path] if path.is_file() else []
    infos = []
    for p in paths:
        stat = p.stat()
        infos.append(ObjectInfo(f"file://{p}", stat.st_size, int(stat.st_mtime_ns)))
    return infos


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


class _GcsWriter:
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
        # An unfinished resumable upload creates no object; its session expires by itself.
        self._writer = None


class _LocalWriter:
    """A temporary file beside the target, renamed over it on commit."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        self._tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        self._file = open(self._tmp, "wb")  # noqa: SIM115 - closed in commit/abort

    def write(self, data: bytes) -> None:
        self._file.write(data)

    def commit(self) -> None:
        self._file.close()
        os.replace(self._tmp, self._path)

    def abort(self) -> None:
        self._file.close()
        self._tmp.unlink(missing_ok=True)
