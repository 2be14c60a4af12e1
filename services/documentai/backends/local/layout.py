"""Reading order: a page's words (and its tables, kept whole) into blocks of lines, the order
a person reads them in.

A recursive X-Y cut: a region is split down a vertical gutter that no word crosses (columns),
else across horizontal gaps (blocks); a horizontal split whose neighbouring bands share a
gutter is undone, so two columns whose paragraphs happen to break at the same height are
still read column by column rather than band by band. Tables take part as one item each, and
are written out cell by cell, row by row, where they stand.

Thresholds are in units of the page's median word height, so they hold for points (PDFs) and
pixels (scans) alike.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from services.documentai.backends.local.model import Box, Word

# A vertical gutter at least this wide (median word heights) separates columns: wider than
# any space between words of a line, narrower than the usual column gap (2-3 em).
GUTTER = 1.5
# A horizontal gap at least this high separates blocks: more than the leading between lines
# of a paragraph (0.2-0.6 of a word's height), less than a paragraph's spacing.
BLOCK_GAP = 0.8
# Two words are on one line when their vertical overlap is at least this share of the
# shorter one's height.
SAME_LINE = 0.5


@dataclasses.dataclass
class Line:
    words: list[Word]

    @property
    def box(self) -> Box:
        return Box.around([w.box for w in self.words])


@dataclasses.dataclass
class TextBlock:
    lines: list[Line]
    table: int | None = None  # index of the table this block is a cell of
    cell: tuple[int, int] | None = None  # (row, column) of that cell

    @property
    def box(self) -> Box:
        return Box.around([line.box for line in self.lines])


@dataclasses.dataclass(frozen=True)
class Item:
    """What the cut orders: a word, or a whole table."""

    box: Box
    word: Word | None = None
    table: int | None = None


def lines_of(words: Sequence[Word]) -> list[Line]:
    """Words grouped into lines (top to bottom), each line left to right."""
    lines: list[list[Word]] = []
    for word in sorted(words, key=lambda w: (w.box.cy, w.box.x0)):
        best = None
        for line in lines[-3:]:  # only recent lines can still be on this height
            box = Box.around([w.box for w in line])
            overlap = min(box.y1, word.box.y1) - max(box.y0, word.box.y0)
            if overlap >= SAME_LINE * min(box.height, word.box.height):
                best = line
        if best is None:
            lines.append([word])
        else:
            best.append(word)
    return [Line(sorted(line, key=lambda w: w.box.x0)) for line in lines]


def order(items: list[Item], unit: float) -> list[list[Item]]:
    """The items in reading order, grouped into blocks."""
    if not items:
        return []
    return _cut(items, unit, depth=0)


def _cut(items: list[Item], unit: float, depth: int) -> list[list[Item]]:
    if len(items) <= 1 or depth > 40:
        return [items]
    columns = _split(items, vertical=True, gap=GUTTER * unit)
    if len(columns) > 1:
        return [block for part in columns for block in _cut(part, unit, depth + 1)]
    bands = _split(items, vertical=False, gap=BLOCK_GAP * unit)
    if len(bands) > 1:
        bands = _rejoin_columns(bands, unit)
        if len(bands) > 1:
            return [block for part in bands for block in _cut(part, unit, depth + 1)]
        # Rejoined into one region with a gutter: cut it down the gutter next time round.
        return _cut_columns(bands[0], unit, depth)
    return [items]


def _cut_columns(items: list[Item], unit: float, depth: int) -> list[list[Item]]:
    columns = _split(items, vertical=True, gap=GUTTER * unit)
    if len(columns) <= 1:
        return [items]
    return [block for part in columns for block in _cut(part, unit, depth + 1)]


def _rejoin_columns(bands: list[list[Item]], unit: float) -> list[list[Item]]:
    """Neighbouring bands that share a gutter are one multi-column region."""
    joined = [bands[0]]
    for band in bands[1:]:
        merged = joined[-1] + band
        if (
            len(_split(joined[-1], vertical=True, gap=GUTTER * unit)) > 1
            and len(_split(band, vertical=True, gap=GUTTER * unit)) > 1
            and len(_split(merged, vertical=True, gap=GUTTER * unit)) > 1
        ):
            joined[-1] = merged
        else:
            joined.append(band)
    return joined


def _split(items: list[Item], *, vertical: bool, gap: float) -> list[list[Item]]:
    """Items split at every empty stretch at least `gap` wide along one axis (x for a
    vertical gutter, y for a horizontal gap), in order along that axis."""

    def span(item: Item) -> tuple[float, float]:
        box = item.box
        return (box.x0, box.x1) if vertical else (box.y0, box.y1)

    ordered = sorted(items, key=lambda i: span(i)[0])
    groups: list[list[Item]] = [[ordered[0]]]
    reach = span(ordered[0])[1]
    for item in ordered[1:]:
        start, end = span(item)
        if start - reach >= gap:
            groups.append([item])
        else:
            groups[-1].append(item)
        reach = max(reach, end)
    if vertical and len(groups) > 1 and min(_line_count(g) for g in groups) < 2:
        # A gap within a single line ("Total:        9,593.00") is not a column gutter:
        # columns hold several lines each.
        return [items]
    return groups


def _line_count(items: list[Item]) -> int:
    if any(item.table is not None for item in items):
        return 2
    return len(lines_of([item.word for item in items if item.word is not None]))
