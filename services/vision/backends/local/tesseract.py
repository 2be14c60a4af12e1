"""Tesseract through tesserocr: language data discovery, language codes, and a pool of warm
engines.

An engine costs 0.1-0.3 s and tens of MB to load a language, and one engine serves one thread at
a time, so engines are pooled per (languages, page segmentation mode) and reused.

The tesserocr wheel carries its own libtesseract but no language data; the data comes from
Debian's `tesseract-ocr-<lang>` packages (or `$TESSDATA_PREFIX`).
"""

from __future__ import annotations

import contextlib
import glob
import os
import queue
import threading
from collections.abc import Iterator

import tesserocr

# BCP-47 / ISO 639-1 codes Google uses -> Tesseract's traineddata names. Codes missing here are
# passed through (a user may give Tesseract's own name, such as "chi_sim").
_BCP47_TO_TESSERACT = {
    "af": "afr",
    "ar": "ara",
    "bg": "bul",
    "bn": "ben",
    "ca": "cat",
    "cs": "ces",
    "da": "dan",
    "de": "deu",
    "el": "ell",
    "en": "eng",
    "es": "spa",
    "et": "est",
    "eu": "eus",
    "fa": "fas",
    "fi": "fin",
    "fr": "fra",
    "ga": "gle",
    "gl": "glg",
    "he": "heb",
    "hi": "hin",
    "hr": "hrv",
    "hu": "hun",
    "id": "ind",
    "is": "isl",
    "it": "ita",
    "ja": "jpn",
    "ko": "kor",
    "lt": "lit",
    "lv": "lav",
    "mk": "mkd",
    "ms": "msa",
    "mt": "mlt",
    "nl": "nld",
    "no": "nor",
    "pl": "pol",
    "pt": "por",
    "ro": "ron",
    "ru": "rus",
    "sk": "slk",
    "sl": "slv",
    "sq": "sqi",
    "sr": "srp",
    "sv": "swe",
    "sw": "swa",
    "ta": "tam",
    "th": "tha",
    "tr": "tur",
    "uk": "ukr",
    "ur": "urd",
    "vi": "vie",
    "zh": "chi_sim",
    "zh-cn": "chi_sim",
    "zh-hans": "chi_sim",
    "zh-tw": "chi_tra",
    "zh-hant": "chi_tra",
}
_TESSERACT_TO_BCP47 = {v: k for k, v in _BCP47_TO_TESSERACT.items() if "-" not in k}

_TESSDATA_CANDIDATES = (
    "/usr/share/tesseract-ocr/5/tessdata",
    "/usr/share/tesseract-ocr/4.00/tessdata",
    "/usr/share/tessdata",
    "/usr/local/share/tessdata",
)


def find_tessdata(configured: str | None = None) -> str | None:
    """The directory holding `*.traineddata`: configured, `$TESSDATA_PREFIX`, then Debian's."""
    for candidate in (configured, os.environ.get("TESSDATA_PREFIX"), *_TESSDATA_CANDIDATES):
        if candidate and glob.glob(os.path.join(candidate, "*.traineddata")):
            return candidate
    return None


def installed_languages(tessdata: str) -> set[str]:
    return {
        os.path.basename(path)[: -len(".traineddata")]
        for path in glob.glob(os.path.join(tessdata, "*.traineddata"))
    } - {"osd", "equ"}


def to_tesseract(code: str) -> str:
    lowered = code.strip().lower().replace("_", "-")
    if lowered in _BCP47_TO_TESSERACT:
        return _BCP47_TO_TESSERACT[lowered]
    primary = lowered.split("-")[0]
    return _BCP47_TO_TESSERACT.get(primary, code.strip())


def to_bcp47(tesseract_code: str) -> str:
    return _TESSERACT_TO_BCP47.get(tesseract_code, tesseract_code)


class EnginePool:
    """Warm `PyTessBaseAPI` engines, keyed by (languages, psm). Thread-safe."""

    def __init__(self, tessdata: str, max_per_key: int = 4) -> None:
        self.tessdata = tessdata
        self._max_per_key = max_per_key
        # Protects `_idle` and `_created` (the per-key bookkeeping), not the engines themselves:
        # an engine is used by one thread at a time because it is out of the queue while in use.
        self._lock = threading.Lock()
        self._idle: dict[tuple[str, int], queue.LifoQueue[tesserocr.PyTessBaseAPI]] = {}
        self._created: dict[tuple[str, int], int] = {}

    @contextlib.contextmanager
    def engine(self, languages: str, psm: int) -> Iterator[tesserocr.PyTessBaseAPI]:
        key = (languages, psm)
        with self._lock:
            idle = self._idle.setdefault(key, queue.LifoQueue())
            create = idle.empty() and self._created.get(key, 0) < self._max_per_key
            if create:
                self._created[key] = self._created.get(key, 0) + 1
        try:
            api = self._create(languages, psm) if create else idle.get()
        except BaseException:
            with self._lock:
                self._created[key] -= 1
            raise
        try:
            yield api
        finally:
            api.Clear()
            idle.put(api)

    def _create(self, languages: str, psm: int) -> tesserocr.PyTessBaseAPI:
        api = tesserocr.PyTessBaseAPI(
            path=self.tessdata, lang=languages, psm=psm, oem=tesserocr.OEM.LSTM_ONLY
        )
        # Photos carry no resolution; Tesseract otherwise warns and guesses per image.
        api.SetVariable("user_defined_dpi", "300")
        return api

    def close(self) -> None:
        with self._lock:
            for idle in self._idle.values():
                while not idle.empty():
                    idle.get_nowait().End()
            self._idle.clear()
            self._created.clear()
