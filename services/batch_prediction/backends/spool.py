"""The model files the scoring processes load from: a version's artifact (and its compiled
form) written once to a local folder, named by sha256, and read by each process at its first
shard of that version.

A version is written once and not read from the registry again while it is kept. The
`kept` versions used last stay, and so does any version a job is still scoring with; the
files of the others are deleted when a job ends. On Cloud Run the local disk is memory, so
a long-lived service that scores many versions would otherwise hold every one of them.
"""

from __future__ import annotations

import collections
import hashlib
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from shared.registry import ModelVersion

Identity = tuple[str, str, str]  # ModelVersion.identity


class Spool:
    def __init__(self, kept: int = 4) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="mlapi-scoring-"))
        self._kept = max(kept, 1)
        # Most recently used last: identity -> [artifact path, compiled path or None].
        self._files: collections.OrderedDict[Identity, list[str | None]] = collections.OrderedDict()
        self._in_use: collections.Counter[Identity] = collections.Counter()
        # Protects `_files` and `_in_use`; writing a version's files happens under it.
        self._lock = threading.Lock()

    def acquire(
        self, version: ModelVersion, read_artifact: Callable[[], bytes], compiled: bytes | None
    ) -> tuple[str, str | None]:
        """The paths of `version`'s artifact and compiled form (None when not given),
        written now if they are not here; kept until the matching `release`."""
        key = version.identity
        with self._lock:
            files = self._files.get(key) or [self._write(read_artifact()), None]
            if compiled is not None and files[1] is None:
                files[1] = self._write(compiled)
            self._files[key] = files
            self._files.move_to_end(key)
            self._in_use[key] += 1
            return str(files[0]), files[1] if compiled is not None else None

    def release(self, version: ModelVersion) -> None:
        """The job using `version` ended: drop the files no kept or running version needs."""
        key = version.identity
        with self._lock:
            self._in_use[key] -= 1
            if self._in_use[key] <= 0:
                del self._in_use[key]
            for old in list(self._files)[: -self._kept]:
                if old not in self._in_use:
                    del self._files[old]
            needed = {path for files in self._files.values() for path in files}
            for path in self.folder.glob("*.model"):
                if str(path) not in needed:
                    path.unlink(missing_ok=True)

    def _write(self, data: bytes) -> str:
        path = self.folder / f"{hashlib.sha256(data).hexdigest()}.model"
        if not path.exists():
            partial = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}")
            partial.write_bytes(data)
            partial.replace(path)
        return str(path)

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
