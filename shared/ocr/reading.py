"""What a reader hands the pipeline: a page already in original pixels, how sure the engine
was of it (the mean word confidence, in [0, 1]) and, where the engine has a dictionary, the
share of its words found there. The pipeline compares readings of the same image turned
different ways by `score`: an engine reading text upside down is often fairly sure of nonsense
(blurred or tiny print), but the nonsense is not in its dictionary."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING

from shared.ocr.types import Box, Page

if TYPE_CHECKING:
    from shared.ocr.preprocess import Prepared


# Upright Latin text reads at 1.5-2.6 characters per line height of length (PP-OCR's line boxes,
# the OCR set), upside-down text at 0.3-0.9.
PLAUSIBLE_DENSITY = 1.3


@dataclasses.dataclass(frozen=True)
class Reading:
    page: Page
    confidence: float  # mean word confidence, 0 when nothing was read
    # Share of the words of three letters or more that are dictionary words; None when the
    # engine has no dictionary or there are no such words.
    dictionary: float | None = None
    # Characters read per line height of line length, where the engine's confidence needs it.
    density: float | None = None

    @property
    def sureness(self) -> float:
        """Confidence, weighed down when far fewer characters were read than the lines' length
        holds (PP-OCR reads upside-down text as a few confident letters)."""
        if self.density is None:
            return self.confidence
        return self.confidence * min(1.0, self.density / PLAUSIBLE_DENSITY)

    @property
    def score(self) -> float:
        """`sureness`, weighed down by words that are not words (at most by 40%)."""
        if self.dictionary is None:
            return self.sureness
        return self.sureness * (0.6 + 0.4 * self.dictionary)

    @property
    def characters(self) -> int:
        return sum(len(word.symbols) for word in self.page.words)


def box_builder(prepared: Prepared) -> Callable[[tuple[float, float, float, float]], Box]:
    """A function from a box in the processed image (left, top, right, bottom) to its four
    corners in the original image, in the upright text's reading order."""

    to_original = prepared.mapper()

    def box(rect: tuple[float, float, float, float]) -> Box:
        x1, y1, x2, y2 = rect
        a, b, c, d = to_original([(x1, y1), (x2, y1), (x2, y2), (x1, y2)])
        return (a, b, c, d)

    return box
