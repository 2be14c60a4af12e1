"""Apertium, kept warm: one long-running pipeline per installed translation direction.

Starting `apertium eng-spa` costs about 200 ms (a dozen processes load their transducers), so a
direction's pipeline is started once and fed in null-flush mode: every piece of input ends with
a NUL byte, every tool flushes its output at a NUL, so each piece comes back NUL-terminated.
A batch is written by a writer thread while the caller reads (a pipe holds only 64 KB, so
writing everything first could block both sides).

The pipeline is the mode file's own command line, with `-z` added to every tool by Apertium's
`apertium-wblank-mode -z` (the same as `apertium -z` runs); positional `$1` (generation
options) is `-n`, so unknown words come out without Apertium's `*` marks, as Google shows them.
Input and output are Apertium's stream format (see `markup.py`).

Directions are discovered from the mode files under `{data_dir}/modes` (Debian's
`/usr/share/apertium/modes`): `eng-spa.mode` is English -> Spanish. Variant modes
(`eng-cat_valencia`) and non-pair modes are skipped. A direction that no pair makes directly is
routed through one pivot (`fr -> es -> en`) when two installed pairs make a path.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import re
import select
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from shared.errors import ApiError, Code

log = logging.getLogger("services.translation.apertium")

DEFAULT_DATA_DIR = "/usr/share/apertium"
_MODE_NAME = re.compile(r"^([a-z]{2,3})-([a-z]{2,3})$")

# Apertium's codes (ISO 639-3 or 639-1) -> BCP-47 as Google's Translation API uses them.
BCP47 = {
    "afr": "af", "arg": "an", "ast": "ast", "bel": "be", "bre": "br", "bul": "bg", "cat": "ca",
    "dan": "da", "eng": "en", "epo": "eo", "eus": "eu", "fra": "fr", "glg": "gl", "hin": "hi",
    "isl": "is", "ita": "it", "mkd": "mk", "nld": "nl", "nno": "nn", "nob": "nb", "nor": "no",
    "oci": "oc", "pol": "pl", "por": "pt", "ron": "ro", "rus": "ru", "spa": "es", "srd": "sc",
    "swe": "sv", "ukr": "uk", "urd": "ur", "ind": "id", "zlm": "ms", "hbs": "sh",
}  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Pair:
    source: str  # BCP-47
    target: str
    mode: str  # Apertium's name, e.g. "eng-spa"
    mode_file: Path


def to_bcp47(code: str) -> str | None:
    if code in BCP47:
        return BCP47[code]
    return code if len(code) == 2 else None


def discover(data_dir: str | os.PathLike[str]) -> dict[tuple[str, str], Pair]:
    """Installed directions, keyed by (source, target) in BCP-47."""
    modes = Path(data_dir) / "modes"
    pairs: dict[tuple[str, str], Pair] = {}
    if not modes.is_dir():
        return pairs
    for mode_file in sorted(modes.glob("*.mode")):
        match = _MODE_NAME.match(mode_file.stem)
        if not match:
            continue
        source, target = to_bcp47(match.group(1)), to_bcp47(match.group(2))
        if source and target and source != target:
            pairs.setdefault((source, target), Pair(source, target, mode_file.stem, mode_file))
    return pairs


def route(
    pairs: dict[tuple[str, str], Pair], source: str, target: str, pivots: Sequence[str]
) -> list[Pair] | None:
    """The direct pair, else source -> pivot -> target through two installed pairs (pivots
    tried in the given order, then alphabetically); None when there is no such path."""
    if (source, target) in pairs:
        return [pairs[source, target]]
    middles = {t for s, t in pairs if s == source} & {s for s, t in pairs if t == target}
    for middle in [*[p for p in pivots if p in middles], *sorted(middles)]:
        return [pairs[source, middle], pairs[middle, target]]
    return None


def pipeline_command(mode_file: Path) -> str:
    """The mode's shell pipeline with every tool in null-flush mode."""
    if shutil.which("apertium-wblank-mode"):
        done = subprocess.run(
            ["apertium-wblank-mode", "-z", str(mode_file)],
            capture_output=True,
            text=True,
            check=False,
            timeout=10,
        )
        if done.returncode == 0 and done.stdout.strip():
            return done.stdout.strip()
    # Older Apertium: add -z after each tool's name ourselves.
    commands = mode_file.read_text().strip().split("|")
    return " | ".join(re.sub(r"^\s*(\S+)", r"\1 -z", command) for command in commands)


class Pipeline:
    """One direction's warm pipeline; `translate` is serialised (one batch at a time)."""

    def __init__(self, pair: Pair, timeout_s: float) -> None:
        self.pair = pair
        self._timeout_s = timeout_s
        self._process: subprocess.Popen[bytes] | None = None
        # Protects `_process` and the pipe: one batch in flight per pipeline.
        self._lock = threading.Lock()

    def translate(self, pieces: Sequence[str]) -> list[str]:
        with self._lock:
            process = self._ensure_started()
            try:
                return self._exchange(process, pieces)
            except ApiError:
                self._stop()
                raise

    def start(self) -> None:
        with self._lock:
            self._ensure_started()

    def close(self) -> None:
        with self._lock:
            self._stop()

    def _ensure_started(self) -> subprocess.Popen[bytes]:
        if self._process is not None and self._process.poll() is None:
            return self._process
        started = time.perf_counter()
        command = pipeline_command(self.pair.mode_file)
        self._process = subprocess.Popen(
            ["bash", "-c", command, "apertium", "-n", ""],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, so the whole chain can be stopped
        )
        # `_exchange` writes as much as the pipe takes and reads in between.
        os.set_blocking(self._process.stdin.fileno(), False)  # type: ignore[union-attr]
        log.info("apertium %s started in %.3f s", self.pair.mode, time.perf_counter() - started)
        return self._process

    def _exchange(self, process: subprocess.Popen[bytes], pieces: Sequence[str]) -> list[str]:
        if process.stdin is None or process.stdout is None:
            raise ApiError(Code.INTERNAL, "Apertium pipeline has no pipes.")
        payload = memoryview(
            b"".join(piece.replace("\0", "").encode("utf-8") + b"\0" for piece in pieces)
        )
        # Writing and reading in one select loop: a batch larger than the pipe buffers would
        # deadlock a write-then-read, and a writer thread per request cost more than the
        # translation of a short sentence (its start waits for the GIL under load).
        write_fd, read_fd = process.stdin.fileno(), process.stdout.fileno()
        deadline = time.monotonic() + self._timeout_s
        buffer = bytearray()
        while buffer.count(0) < len(pieces):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ApiError(
                    Code.DEADLINE_EXCEEDED,
                    f"Apertium {self.pair.mode} took over {self._timeout_s:.0f} s.",
                )
            writing = [write_fd] if payload else []
            readable, writable, _ = select.select([read_fd], writing, [], remaining)
            if writable:
                try:
                    payload = payload[os.write(write_fd, payload) :]
                except BlockingIOError:
                    pass
                except OSError as exc:
                    raise ApiError(
                        Code.UNAVAILABLE, f"Apertium {self.pair.mode} failed: {exc}"
                    ) from exc
            if readable:
                chunk = os.read(read_fd, 1 << 16)
                if not chunk:
                    raise ApiError(Code.UNAVAILABLE, f"Apertium {self.pair.mode} stopped; retry.")
                buffer += chunk
        return [part.decode("utf-8", errors="replace") for part in bytes(buffer).split(b"\0")[:-1]]

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
