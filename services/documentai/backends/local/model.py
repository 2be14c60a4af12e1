"""What a page is once its words and boxes exist, whatever read them: the one shape that
layout, tables and form fields work on, so a scan and a born-digital page take the same path
from here on.

Coordinates are in the page's own units (PDF points for born-digital pages, pixels of the
levelled image for scans), origin top-left, y growing downwards.
"""

from __future__ import annotations

import dataclasses
import statistics
from typing import Any


@dataclasses.dataclass(frozen=True)
class Box:
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2

    def contains_point(self, x: float, y: float, slack: float = 0.0) -> bool:
        return self.x0 - slack <= x <= self.x1 + slack and self.y0 - slack <= y <= self.y1 + slack

    @staticmethod
    def around(boxes: list[Box]) -> Box:
        return Box(
            min(b.x0 for b in boxes),
            min(b.y0 for b in boxes),
            max(b.x1 for b in boxes),
            max(b.y1 for b in boxes),
        )


@dataclasses.dataclass(frozen=True)
class Word:
    text: str
    box: Box
    confidence: float = 1.0


@dataclasses.dataclass(frozen=True)
class Rule:
    """A ruled line: horizontal when `horizontal`, at `pos` (y, or x for a vertical one),
    spanning `start`..`end` along its direction."""

    horizontal: bool
    pos: float
    start: float
    end: float


@dataclasses.dataclass(frozen=True)
class CheckBox:
    box: Box
    filled: bool


@dataclasses.dataclass
class PageContent:
    number: int  # 1-based, in the original document
    width: float
    height: float
    unit: str  # "points" or "pixels", as Google's `dimension.unit`
    words: list[Word]
    rules: list[Rule] = dataclasses.field(default_factory=list)
    checkboxes: list[CheckBox] = dataclasses.field(default_factory=list)
    image: Any = None  # the PIL image read, for `page.image` (scans only)
    languages: list[tuple[str, float]] = dataclasses.field(default_factory=list)
    orientation: int = 0  # clockwise degrees the text was turned (0, 90, 180, 270)

    @property
    def text_height(self) -> float:
        """Median word height: the unit that gaps are measured in."""
        if not self.words:
            return 10.0
        return statistics.median(w.box.height for w in self.words) or 10.0
