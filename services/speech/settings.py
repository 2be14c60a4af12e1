"""The speech service's settings (beyond `shared.config.Settings`), read from the environment
with the `SPEECH_` prefix first.

| variable | default | meaning |
|---|---|---|
| `SPEECH_ENGINE` | `whisper` | `whisper`, or `pocketsphinx` (light, English only, far worse) |
| `SPEECH_MODEL` | `base` | Whisper size: `base` or `small` (MODELS.md: why base) |
| `SPEECH_COMPUTE_TYPE` | `int8` | CTranslate2 compute type (`int8`, `float32`) |
| `SPEECH_CPU_THREADS` | 2 | inference threads (these machines have 2 cores) |
| `SPEECH_BEAM_SIZE` | 5 | Whisper's beam width (1: greedy, ~2x faster, a little worse) |
| `SPEECH_CHUNK_SECONDS` | 120 | long audio is read and recognised this many seconds at a time |
| `SPEECH_LRO_WORKERS` | 1 | long-running jobs run at once in one instance (more queue) |
| `SPEECH_PREWARM` | `false` | load the model when the app is built, not on first use |
| `SPEECH_WORKFLOW_LANGUAGE` | `en-US` | language of audio arriving through the workflow |
| `SPEECH_STALE_SECONDS` | 300 | an operation not updated this long is taken over by a poll |
| `MAX_REQUEST_BYTES` | 15 MiB | 10 MB of audio is 13.4 MB as base64 JSON |
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shared.config import Settings


class SpeechSettings(Settings):
    max_request_bytes: int = Field(default=15 * 1024 * 1024, gt=0)
    engine: Literal["whisper", "pocketsphinx"] = "whisper"
    model: Literal["base", "small"] = "base"
    compute_type: str = "int8"
    cpu_threads: int = Field(default=2, ge=1)
    beam_size: int = Field(default=5, ge=1, le=10)
    chunk_seconds: float = Field(default=120.0, ge=10.0)
    lro_workers: int = Field(default=1, ge=1)
    prewarm: bool = False
    workflow_language: str = "en-US"
    stale_seconds: float = Field(default=300.0, gt=0)
