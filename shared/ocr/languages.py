"""Language codes and Tesseract's language data: Google's BCP-47 codes <-> Tesseract's
traineddata names, where the data lives, and which languages a request may use.

Pure Python (no engine import), so a request's language hints are checked before any engine
loads.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence

from shared.errors import invalid_argument

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


def resolve_tesseract(hints: Sequence[str], default: Sequence[str], tessdata: str) -> list[str]:
    """Tesseract language names for a request (its hints, else `default`), each installed;
    INVALID_ARGUMENT naming the Debian packages to install otherwise."""
    wanted = [to_tesseract(code) for code in (hints or default)]
    installed = installed_languages(tessdata)
    missing = [code for code in wanted if code not in installed]
    if missing:
        available = ", ".join(sorted(to_bcp47(code) for code in installed))
        packages = " ".join(f"tesseract-ocr-{code.replace('_', '-').lower()}" for code in missing)
        raise invalid_argument(
            f"Language hint(s) {', '.join(to_bcp47(c) for c in missing)} not supported: "
            f"no OCR data installed (apt-get install {packages}). Installed: {available}."
        )
    return list(dict.fromkeys(wanted))
