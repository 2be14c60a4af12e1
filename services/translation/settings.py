"""The translation service's settings (beyond `shared.config.Settings`), read from the
environment with the `TRANSLATION_` prefix first.

| variable | default | meaning |
|---|---|---|
| `TRANSLATION_TARGET_LANGUAGES` | `es` | languages the workflow translates each text into |
| `TRANSLATION_DETECT_LANGUAGES` | en,es,fr,de,it,pt,ca,nl | lingua's candidates (~235 MB) |
| `TRANSLATION_DETECT_ACCURACY` | `high` | lingua: `high`, or `low` (~12 MB, worse when short) |
| `TRANSLATION_APERTIUM_DIR` | `/usr/share/apertium` | where Apertium's `modes/` are |
| `TRANSLATION_PIVOTS` | `en,es` | preferred pivot languages when no pair is direct |
| `TRANSLATION_PREWARM` | `false` | start every Apertium pipeline when the app is built |
| `TRANSLATION_MAX_CODEPOINTS` | 30000 | code points a request may carry (Google's advice) |
| `TRANSLATION_PIPELINE_TIMEOUT_S` | 60 | longest an Apertium batch may take |
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shared.config import Settings
from shared.langid import DEFAULT_LANGUAGES


class TranslationSettings(Settings):
    target_languages: list[str] = Field(default_factory=lambda: ["es"], min_length=1)
    detect_languages: list[str] = Field(default_factory=lambda: list(DEFAULT_LANGUAGES))
    detect_accuracy: Literal["high", "low"] = "high"
    apertium_dir: str = "/usr/share/apertium"
    pivots: list[str] = Field(default_factory=lambda: ["en", "es"])
    prewarm: bool = False
    max_codepoints: int = Field(default=30_000, gt=0)
    pipeline_timeout_s: float = Field(default=60.0, gt=0)
