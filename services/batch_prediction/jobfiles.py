"""The objects a job reads and writes, by URI: `gs://` through `shared.storage.Storage`;
`file://` on the local disk (`LocalFiles`), for development and benchmarks only, when
`ALLOW_LOCAL_FILES` is set.

`LocalFiles` lives here, beside the one storage client, rather than in `shared/`: no other
service reads local paths, and a deployed batch service never should (the setting is off by
default). It offers what `Storage` offers for large objects, with the same meaning: `expand`
(a path, a directory ending in `/`, or a glob), `open_reader`, `open_writer` (a temporary file
renamed over the target on `commit()`) and `list_metadata` (local files keep no custom
metadata: always empty).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from shared.errors import ApiError, Code, echo, invalid_argument
from shared.storage import GLOB_CHARACTERS, ObjectInfo, ObjectWriter, Storage, parse_gs_uri

LOCAL = "file://"


class JobFiles:
    """Object access for jobs: `Storage` for gs://, `LocalFiles` for file:// when allowed."""

    def __init__(self, storage: Storage, *, allow_local_files: bool = False) -> None:
        self.storage = storage
        self._local = LocalFiles() if allow_local_files else None

    def check_uri(self, uri: str, what: str) -> None:
        """INVALID_ARGUMENT, naming `what`, unless `uri` is one this service may use."""
        if uri.startswith("gs://"):
            parse_gs_uri(uri if not uri.endswith("/") else uri + "x")
            return
        if uri.startswith(LOCAL) and self._local is not None:
            return
        allowed = "gs://" + (" or file://" if self._local is not None else "")
        raise invalid_argument(f"{what} must be a {allowed} URI, got {echo(uri)}.")

    def keeps_metadata(self, uri: str) -> bool:
        return not uri.startswith(LOCAL)

    def _store(self, uri: str) -> Storage | LocalFiles:
        if uri.startswith(LOCAL) and self._local is not None:
            return self._local
        return self.storage

    def expand(self, uri: str) -> list[ObjectInfo]:
        """The objects `uri` names (an object, a prefix ending in '/', or a glob), sorted."""
        self.check_uri(uri, "An input URI")
        return self._store(uri).expand(uri)

    def open_reader(self, obj: ObjectInfo, block: int) -> IO[bytes]:
        return self._store(obj.uri).open_reader(obj, block)

    def read_whole(self, obj: ObjectInfo, max_bytes: int) -> bytes:
        """A small object whole (a file list); a larger one is INVALID_ARGUMENT unread."""
        if obj.size > max_bytes:
            raise invalid_argument(f"{obj.uri} is {obj.size} bytes; the limit is {max_bytes}.")
        with self.open_reader(obj, max_bytes or 1) as reader:
            return reader.read()

    def open_writer(
        self, uri: str, metadata: Mapping[str, str], *, chunk_bytes: int, content_type: str
    ) -> ObjectWriter:
        return self._store(uri).open_writer(
            uri, metadata=metadata, chunk_bytes=chunk_bytes, content_type=content_type
        )

    def list_metadata(self, directory: str) -> dict[str, dict[str, str]]:
        """The objects directly in `directory`: file name -> custom metadata."""
        return self._store(directory).list_metadata(directory)


class LocalFiles:
    """`file://` URIs on this machine's disk, with `Storage`'s large-object interface. A
    file's generation is its modification time in nanoseconds."""

    def expand(self, uri: str) -> list[ObjectInfo]:
        pattern = uri[len(LOCAL) :]
        path = Path(pattern)
        if any(c in pattern for c in GLOB_CHARACTERS):
            paths = [Path(p) for p in sorted(map(str, Path("/").glob(pattern.lstrip("/"))))]
        elif pattern.endswith("/"):
            paths = sorted(p for p in path.rglob("*") if p.is_file())
        else:
            paths = [path] if path.is_file() else []
        found = []
        for p in paths:
            stat = p.stat()
            found.append(ObjectInfo(f"{LOCAL}{p}", stat.st_size, int(stat.st_mtime_ns)))
        return found

    def open_reader(self, obj: ObjectInfo, block: int) -> IO[bytes]:
        try:
            return open(obj.uri[len(LOCAL) :], "rb")
        except FileNotFoundError:
            raise ApiError(Code.NOT_FOUND, f"{obj.uri} was not found.") from None

    def open_writer(
        self,
        uri: str,
        *,
        metadata: Mapping[str, str] | None = None,
        chunk_bytes: int = 0,
        content_type: str = "",
    ) -> ObjectWriter:
        return _LocalWriter(Path(uri[len(LOCAL) :]))

    def list_metadata(self, directory: str) -> dict[str, dict[str, str]]:
        path = Path(directory[len(LOCAL) :])
        if not path.is_dir():
            return {}
        return {p.name: {} for p in path.iterdir() if p.is_file()}


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
