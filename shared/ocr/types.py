"""What an OCR reading is, independent of any engine and of any Google API.

A `Page` holds blocks -> paragraphs -> lines -> words -> symbols, each with a box in the
original image's pixels and a confidence in [0, 1]. Vision turns it into a `TextAnnotation`
(which has no line level: its words carry the line breaks), Document AI into a `Document` page
(which has lines and tokens). Nothing here imports an engine, so any process may import it.

Boxes are four (x, y) corners in reading order of the upright text: top-left, top-right,
bottom-right, bottom-left, as Google gives them for rotated text; for a page turned 90 degrees
the first corner is not the one nearest the image's origin.
"""

from __future__ import annotations

import dataclasses
import enum
from collections import Counter
from collections.abc import Iterator

Point = tuple[int, int]
Box = tuple[Point, Point, Point, Point]


class Break(enum.Enum):
    """What follows a symbol. The names are Vision's `DetectedBreak.BreakType` ones."""

    SPACE = "SPACE"  # between words of a line
    EOL_SURE_SPACE = "EOL_SURE_SPACE"  # end of a line inside a paragraph
    LINE_BREAK = "LINE_BREAK"  # end of a paragraph
    HYPHEN = "HYPHEN"  # a line ending in a hyphenated word


# How each break is written into the page's text (Vision's `fullTextAnnotation.text` writes a
# newline at the end of every line).
BREAK_TEXT = {
    Break.SPACE: " ",
    Break.EOL_SURE_SPACE: "\n",
    Break.LINE_BREAK: "\n",
    Break.HYPHEN: "\n",
}


@dataclasses.dataclass(frozen=True)
class DetectedLanguage:
    code: str  # BCP-47, as Google writes it ("en", "fr", "zh")
    confidence: float


@dataclasses.dataclass(frozen=True)
class Symbol:
    text: str
    box: Box
    confidence: float
    break_after: Break | None = None


@dataclasses.dataclass(frozen=True)
class Word:
    symbols: tuple[Symbol, ...]
    box: Box
    confidence: float
    language: str | None = None  # BCP-47

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.symbols)


@dataclasses.dataclass(frozen=True)
class Line:
    words: tuple[Word, ...]
    box: Box
    confidence: float

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


@dataclasses.dataclass(frozen=True)
class Paragraph:
    lines: tuple[Line, ...]
    box: Box
    confidence: float

    @property
    def words(self) -> Iterator[Word]:
        for line in self.lines:
            yield from line.words

    @property
    def languages(self) -> list[DetectedLanguage]:
        return languages_of(self.words)


@dataclasses.dataclass(frozen=True)
class Block:
    paragraphs: tuple[Paragraph, ...]
    box: Box
    confidence: float

    @property
    def words(self) -> Iterator[Word]:
        for paragraph in self.paragraphs:
            yield from paragraph.words

    @property
    def languages(self) -> list[DetectedLanguage]:
        return languages_of(self.words)


@dataclasses.dataclass(frozen=True)
class Page:
    """One image's reading. `orientation` is how far the text was turned clockwise from upright
    in the image (0, 90, 180 or 270); `skew` the small angle, in degrees counter-clockwise, that
    levelled its lines; `engine` names what read it ("tesseract", "rapidocr")."""

    width: int
    height: int
    blocks: tuple[Block, ...]
    engine: str
    orientation: int = 0
    skew: float = 0.0

    @property
    def words(self) -> Iterator[Word]:
        for block in self.blocks:
            yield from block.words

    @property
    def confidence(self) -> float:
        """Mean block confidence (0 for a page without text)."""
        if not self.blocks:
            return 0.0
        return sum(b.confidence for b in self.blocks) / len(self.blocks)

    @property
    def languages(self) -> list[DetectedLanguage]:
        return languages_of(self.words)

    @property
    def text(self) -> str:
        """Symbols and breaks written out, as Vision's `fullTextAnnotation.text`."""
        parts = []
        for word in self.words:
            for symbol in word.symbols:
                parts.append(symbol.text)
                if symbol.break_after is not None:
                    parts.append(BREAK_TEXT[symbol.break_after])
        return "".join(parts)


def languages_of(words: Iterator[Word]) -> list[DetectedLanguage]:
    """Languages weighted by recognised characters, most frequent first."""
    counts: Counter[str] = Counter()
    for word in words:
        if word.language:
            counts[word.language] += len(word.symbols)
    total = sum(counts.values())
    return [DetectedLanguage(code, n / total) for code, n in counts.most_common()]


def enclosing(boxes: list[Box]) -> Box:
    """The upright box around several boxes (for a level that an engine does not report)."""
    xs = [x for box in boxes for x, _ in box]
    ys = [y for box in boxes for _, y in box]
    left, top, right, bottom = min(xs), min(ys), max(xs), max(ys)
    return ((left, top), (right, top), (right, bottom), (left, bottom))
