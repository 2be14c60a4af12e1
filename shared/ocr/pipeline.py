"""One image in, one `Page` out: clean-up, the reading, and the orientation decision, the same
for every engine.

Orientation detection costs as much as a reading, and most images are upright, so the image is
read as it is first; only a hesitant reading (mean word confidence below `CONFIDENT_READING`)
asks the engine's orientation detector, and the more confident of the two readings wins.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Protocol

from PIL import Image

from shared.ocr.preprocess import Prepared, prepare
from shared.ocr.reading import Reading
from shared.ocr.types import Page

# Upright text reads at 0.90-0.97 mean word confidence, text on its side or upside down at
# 0.30-0.45 (measured on the test images); noisy upright text at about 0.80.
CONFIDENT_READING = 0.70


class Reader(Protocol):
    """An OCR engine seen from the pipeline."""

    name: str

    def resolve_languages(self, hints: Sequence[str], default: Sequence[str]) -> list[str]:
        """The engine's languages for a request; INVALID_ARGUMENT for what it cannot read."""
        ...

    def read(self, prepared: Prepared, languages: Sequence[str]) -> Reading: ...

    def osd(self, prepared: Prepared) -> int | None:
        """Clockwise degrees the text seems turned, or None when the engine cannot tell."""
        ...

    def close(self) -> None: ...


class Recogniser:
    """The shared OCR engine: `recognise(image, hints)` -> `Page`. Thread-safe as its reader."""

    def __init__(self, reader: Reader, default_languages: Sequence[str]) -> None:
        self.reader = reader
        self._default = list(default_languages)

    @property
    def name(self) -> str:
        return self.reader.name

    def languages(self, hints: Sequence[str] = ()) -> list[str]:
        return self.reader.resolve_languages(list(hints), self._default)

    def recognise(
        self, image: Image.Image, hints: Sequence[str] = (), *, detect_orientation: bool = True
    ) -> Page:
        languages = self.languages(hints)
        prepared = prepare(image)
        best = self.reader.read(prepared, languages)
        if detect_orientation and best.confidence < CONFIDENT_READING:
            degrees = self.reader.osd(prepared)
            if degrees:
                turned = dataclasses.replace(prepared)
                turned.rotate90(degrees)
                reading = self.reader.read(turned, languages)
                if reading.confidence > best.confidence:
                    best = reading
        return best.page

    def close(self) -> None:
        self.reader.close()
