"""Language identification with `lingua-language-detector`, restricted to a configured set.

Used by the `language` service (is this a language we can analyse?) and the `translation`
service (`detectLanguage`, and `translateText` without a source language). lingua is imported
and its models loaded on first use, never at import, so a `cloud` deployment needs none of it.

Cost, measured on Debian 12 / Python 3.11 (see bench/translation.py): the models of the eight
default languages take about 235 MB of RSS in high-accuracy mode and load in about 1 s; in
low-accuracy mode (trigrams only) about 12 MB, at the price of mistakes on very short strings
("Où est la gare ?" came out Italian). All 75 languages in high accuracy cost about 1.2 GB.
Codes are BCP-47 primary subtags (ISO 639-1: `en`, `es`, ...).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from shared.errors import ApiError, Code

if TYPE_CHECKING:
    from lingua import LanguageDetector

DEFAULT_LANGUAGES = ("en", "es", "fr", "de", "it", "pt", "ca", "nl")
Accuracy = Literal["high", "low"]


class LanguageIdentifier:
    """Thread-safe; the detector is built once, on the first `detect`."""

    def __init__(self, languages: Sequence[str], accuracy: Accuracy = "high") -> None:
        self.languages = tuple(dict.fromkeys(code.split("-")[0].lower() for code in languages))
        self.accuracy = accuracy
        self._detector: LanguageDetector | None = None
        # Protects the lazy build of `_detector` (loading models takes about a second).
        self._lock = threading.Lock()

    def detect(self, text: str) -> list[tuple[str, float]]:
        """(code, confidence) pairs, most likely first, confidences summing to 1; empty when
        the text has no letters of any configured language."""
        detector = self._get_detector()
        values = detector.compute_language_confidence_values(text)
        return [
            (value.language.iso_code_639_1.name.lower(), float(value.value))
            for value in values
            if value.value > 0
        ]

    def best(self, text: str) -> tuple[str, float] | None:
        found = self.detect(text)
        return found[0] if found else None

    def _get_detector(self) -> LanguageDetector:
        with self._lock:
            if self._detector is None:
                self._detector = _build(self.languages, self.accuracy)
            return self._detector


def _build(codes: Sequence[str], accuracy: Accuracy) -> LanguageDetector:
    try:
        from lingua import IsoCode639_1, Language, LanguageDetectorBuilder
    except ImportError:
        raise ApiError(
            Code.UNIMPLEMENTED,
            "Language detection needs the `local` extra (pip install lingua-language-detector).",
        ) from None
    languages = []
    for code in codes:
        iso = getattr(IsoCode639_1, code.upper(), None)
        if iso is None:
            raise ApiError(Code.FAILED_PRECONDITION, f"lingua does not know language {code!r}.")
        languages.append(Language.from_iso_code_639_1(iso))
    if len(languages) < 2:
        raise ApiError(Code.FAILED_PRECONDITION, "Language detection needs two languages or more.")
    builder = LanguageDetectorBuilder.from_languages(*languages).with_preloaded_language_models()
    if accuracy == "low":
        builder = builder.with_low_accuracy_mode()
    return builder.build()
