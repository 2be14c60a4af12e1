"""OCR settings every service that reads text shares. A service's settings subclass
`OcrSettings`, so each reads them under its own prefix: `VISION_OCR_LANGUAGES` for vision,
`DOCUMENTAI_OCR_LANGUAGES` for Document AI, plain `OCR_LANGUAGES` for both.

| variable | default | meaning |
|---|---|---|
| `OCR_LANGUAGES` | `en` | OCR languages when a request gives no language hints |
| `TESSDATA` | Debian's | directory of Tesseract `*.traineddata` |
| `OCR_ENGINES` | 2 | warm engines per language set (memory vs. parallelism) |
"""

from __future__ import annotations

from pydantic import Field

from shared.config import Settings


class OcrSettings(Settings):
    ocr_languages: list[str] = Field(default_factory=lambda: ["en"], min_length=1)
    tessdata: str | None = None
    ocr_engines: int = Field(default=2, ge=1, le=32)
