"""Ruled tables from a page's lines: the same code for the edges of a born-digital PDF and
the lines found in a scan's pixels.

Rules are merged (collinear pieces joined), grouped into tables (rules that touch each
other), and each table's grid is taken from where its rules lie. Neighbouring grid cells with
no rule between them are one cell, which gives `rowSpan` and `colSpan`. A table needs at
least two rows and two columns' worth of rules; unruled tables are not found (said plainly:
Google's form parser finds some of them, this does not).

The first row is taken as the header when the table has more than one row (a ruled table's
first row is its header in nearly every invoice and form; there is no style to go by in a
scan).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from services.documentai.backends.local.model import Box, Rule, Word

# Rules closer than this (median word heights) are one rule; a rule's end this close to
# another rule touches it.
TOLERANCE = 0.35


@dataclasses.dataclass
class Cell:
    row: int
    col: int
    row_span: int
    col_span: int
    box: Box
    words: list[Word] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Table:
    box: Box
    rows: int
    cols: int
    cells: list[Cell]  # row-major, each cell once (at its top-left grid position)
    header_rows: int = 1


def find_tables(rules: Sequence[Rule], words: Sequence[Word], unit: float) -> list[Table]:
    tol = max(TOLERANCE * unit, 1.0)
    horizontal = _merge([r for r in rules if r.horizontal], tol)
    vertical = _merge([r for r in rules if not r.horizontal], tol)
    tables = []
    for group_h, group_v in _groups(horizontal, vertical, tol):
        table = _grid(group_h, group_v, tol)
        if table is not None:
            tables.append(table)
    for table in tables:
        for word in words:
            if not table.box.contains_point(word.box.cx, word.box.cy):
                continue
            for cell in table.cells:
                if cell.box.contains_point(word.box.cx, word.box.cy):
                    cell.words.append(word)
                    break
    return sorted(tables, key=lambda t: (t.box.y0, t.box.x0))


def _merge(rules: list[Rule], tol: float) -> list[Rule]:
    """Collinear rules that overlap or nearly meet, as one."""
    merged: list[Rule] = []
    for rule in sorted(rules, key=lambda r: (r.pos, r.start)):
        for i, other in enumerate(merged):
            close = abs(other.pos - rule.pos) <= tol
            if close and other.start - tol <= rule.end and rule.start <= other.end + tol:
                merged[i] = Rule(
                    rule.horizontal,
                    (other.pos + rule.pos) / 2,
                    min(other.start, rule.start),
                    max(other.end, rule.end),
                )
                break
        else:
            merged.append(rule)
    return merged


def _touch(h: Rule, v: Rule, tol: float) -> bool:
    return h.start - tol <= v.pos <= h.end + tol and v.start - tol <= h.pos <= v.end + tol


def _groups(horizontal: list[Rule], vertical: list[Rule], tol: float):
    """Sets of rules that are connected through their crossings."""
    parent = list(range(len(horizontal) + len(vertical)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, h in enumerate(horizontal):
        for j, v in enumerate(vertical):
            if _touch(h, v, tol):
                parent[find(i)] = find(len(horizontal) + j)
    groups: dict[int, tuple[list[Rule], list[Rule]]] = {}
    for i, h in enumerate(horizontal):
        groups.setdefault(find(i), ([], []))[0].append(h)
    for j, v in enumerate(vertical):
        groups.setdefault(find(len(horizontal) + j), ([], []))[1].append(v)
    return [g for g in groups.values() if len(g[0]) >= 2 and len(g[1]) >= 2]


def _positions(values: list[float], tol: float) -> list[float]:
    found: list[float] = []
    for value in sorted(values):
        if found and value - found[-1] <= tol:
            continue
        found.append(value)
    return found


def _grid(horizontal: list[Rule], vertical: list[Rule], tol: float) -> Table | None:
    ys = _positions([r.pos for r in horizontal], tol)
    xs = _positions([r.pos for r in vertical], tol)
    rows, cols = len(ys) - 1, len(xs) - 1
    if rows < 2 or cols < 2:
        return None  # a frame or a box around a paragraph, not a table

    def ruled_v(x: float, y0: float, y1: float) -> bool:
        mid = (y0 + y1) / 2
        return any(abs(r.pos - x) <= tol and r.start - tol <= mid <= r.end + tol for r in vertical)

    def ruled_h(y: float, x0: float, x1: float) -> bool:
        mid = (x0 + x1) / 2
        return any(
            abs(r.pos - y) <= tol and r.start - tol <= mid <= r.end + tol for r in horizontal
        )

    # Union neighbouring grid cells with no rule between them.
    parent = {(r, c): (r, c) for r in range(rows) for c in range(cols)}

    def find(key):
        while parent[key] != key:
            key = parent[key]
        return key

    for r in range(rows):
        for c in range(cols):
            if c + 1 < cols and not ruled_v(xs[c + 1], ys[r], ys[r + 1]):
                parent[find((r, c + 1))] = find((r, c))
            if r + 1 < rows and not ruled_h(ys[r + 1], xs[c], xs[c + 1]):
                parent[find((r + 1, c))] = find((r, c))
    members: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for key in parent:
        members.setdefault(find(key), []).append(key)
    cells = []
    for group in members.values():
        r0, r1 = min(k[0] for k in group), max(k[0] for k in group)
        c0, c1 = min(k[1] for k in group), max(k[1] for k in group)
        box = Box(xs[c0], ys[r0], xs[c1 + 1], ys[r1 + 1])
        cells.append(Cell(r0, c0, r1 - r0 + 1, c1 - c0 + 1, box))
    if len(cells) < 2:
        return None  # a frame around text, not a table
    cells.sort(key=lambda cell: (cell.row, cell.col))
    box = Box(xs[0], ys[0], xs[-1], ys[-1])
    return Table(box, rows, cols, cells, header_rows=1 if rows > 1 else 0)
