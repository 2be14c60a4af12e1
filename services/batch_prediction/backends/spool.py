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
        self._kept = kept
        # Most recently used last: identity -> the files of that version.
        self._files: collections.OrderedDict[Identity, tuple[str, str | None]] = (
            collections.OrderedDict()
        )
        self._in_use: collections.Counter[Identity] = collections.Counter()
        # Protects `_files` and `_in_use`; writing a version's files happens under it.
        self._lock = threading.Lock()

    def acquire(
        self, version: ModelVersion, read_artifact: Callable[[], bytes], compiled: bytes | None
    ) -> tuple[str, str | None]:
        """The paths of `version`'s artifact and compiled form (None without one), written
        now if they are not here; kept until the matching `release`."""
        key = version.identity
        with self._lock:
            files = self._files.get(key)
            if files is None or (compiled is not None and files[1] is None):
                artifact = files[0] if files else self._write(read_artifact())
                files = (artifact, self._write(compiled) if compiled is not None else None)
            self._files[key] = files
            self._files.move_to_end(key)
            self._in_use[key] += 1
            return files[0], files[1] if compiled is not None else None

    def release(self, version: ModelVersion) -> None:
        """The job using `version` ended: drop the files no kept or running version needs."""
        with self._lock:
            self._in_use[version.identity] -= 1
            self._in_use += collections.Counter()  # drops counts at zero
            old = list(self._files)[: -self._kept] if self._kept else list(self._files)
            for key in old:
                if key not in self._in_use:
                    del self._files[key]
            needed = {path for files in self._files.values() for path in files if path}
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
