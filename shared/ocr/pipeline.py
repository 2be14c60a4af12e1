"""One image in, one `Page` out: clean-up, the reading, and the orientation decision, the same
for every engine.

Orientation is decided by comparing readings, not by trusting one detector: `prepare` has
already turned lines that run down the image across, so the text is either right way up or
upside down. The image is read as it is first (most images are upright: the fast path is one
reading); only a hesitant reading (mean word confidence below `CONFIDENT_READING`) is compared
with the reading turned half round, and if neither is confident, with the two quarter turns
(the line direction was misjudged). The best reading wins, by `Reading.score`: confidence,
weighed down by words missing from the engine's dictionary; a turned reading must beat the
reading as prepared by `TURN_MARGIN`, since blurred or tiny print reads with low confidence any
way round and most images are upright.
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
# How much better (in score) a turned reading must be than the reading as prepared.
TURN_MARGIN = 0.05


class Reader(Protocol):
    """An OCR engine seen from the pipeline."""

    name: str

    def resolve_languages(self, hints: Sequence[str], default: Sequence[str]) -> list[str]:
        """The engine's languages for a request; INVALID_ARGUMENT for what it cannot read."""
        ...

    def read(self, prepared: Prepared, languages: Sequence[str]) -> Reading: ...

    def close(self) -> None: ...


def _better(reading: Reading, than: Reading, margin: float) -> bool:
    """A better score by more than `margin`; a reading of nothing never wins."""
    return reading.characters > 0 and reading.score > than.score + margin


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
        best = first = self.reader.read(prepared, languages)
        # An engine may say where its own confidences part upright from turned text.
        confident = getattr(self.reader, "confident_reading", CONFIDENT_READING)
        if not detect_orientation or best.sureness >= confident:
            return best.page
        for turns in ((180,), (90, 270)):
            for degrees in turns:
                turned = dataclasses.replace(prepared)
                turned.rotate90(degrees)
                reading = self.reader.read(turned, languages)
                if _better(reading, best, TURN_MARGIN if best is first else 0.0):
                    best = reading
            if best.sureness >= confident:
                break
        return best.page

    def close(self) -> None:
        self.reader.close()
