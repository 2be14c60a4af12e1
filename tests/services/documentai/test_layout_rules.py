"""Layout, form fields and tables on synthetic words and rules (no engine): the pure parts
of the local backend, table-driven."""

from __future__ import annotations

import itertools

import pytest

from services.documentai.backends.local import forms, layout, tables
from services.documentai.backends.local.model import Box, CheckBox, Rule, Word

CHAR, HEIGHT, LEADING = 6.0, 10.0, 14.0


def words_of(lines: list[str], x0: float = 50.0, y0: float = 50.0) -> list[Word]:
    """Words placed as a monospaced printer would: column = character position."""
    found = []
    for row, line in enumerate(lines):
        column = 0
        for part in line.split(" "):
            if part:
                left = x0 + column * CHAR
                top = y0 + row * LEADING
                found.append(Word(part, Box(left, top, left + len(part) * CHAR, top + HEIGHT)))
            column += len(part) + 1
    return found


def pairs(lines: list[str], boxes=()) -> dict[str, str]:
    found = forms.find_fields(words_of(lines), list(boxes), HEIGHT)
    return {
        " ".join(w.text for w in f.name): " ".join(w.text for w in f.value) or f.value_type
        for f in found
    }


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["Invoice number: INV-1"], {"Invoice number:": "INV-1"}),
        (["Date: 2026-01-02 Due: 2026-02-01"], {"Date:": "2026-01-02", "Due:": "2026-02-01"}),
        (["Customer:              Acme Ltd"], {"Customer:": "Acme Ltd"}),
        (["Ship to:", "1 Main Street"], {"Ship to:": "1 Main Street"}),
        (["Total : 12.00"], {"Total :": "12.00"}),
        (["Meeting at 10:30 in room B"], {}),
        (["See https://example.com today"], {}),
        (["Name:", "Date: 2026-01-02"], {"Date:": "2026-01-02"}),
    ],
    ids=["inline", "two-on-a-line", "far-right", "below", "colon-apart", "time", "url", "no-value"],
)
def test_key_value_pairs_by_layout(lines, expected):
    assert pairs(lines) == expected


def test_check_boxes_take_the_words_right_of_them():
    line = "    Paid by card          Paid by transfer"
    boxes = [
        CheckBox(Box(50, 50, 50 + 2 * CHAR, 60), filled=True),
        CheckBox(Box(50 + 22 * CHAR, 50, 50 + 24 * CHAR, 60), filled=False),
    ]
    assert pairs([line], boxes) == {
        "Paid by card": "filled_checkbox",
        "Paid by transfer": "unfilled_checkbox",
    }


def test_two_columns_are_read_one_after_the_other():
    left = [f"left line {k}" for k in range(4)]
    right = [f"right line {k}" for k in range(4)]
    rows = [f"{a:<30}{b}" for a, b in zip(left, right, strict=True)]
    items = [layout.Item(w.box, word=w) for w in words_of(rows)]
    blocks = layout.order(items, HEIGHT)
    text = [
        " ".join(w.text for w in line.words)
        for block in blocks
        for line in layout.lines_of([i.word for i in block])
    ]
    assert text == left + right


def test_a_big_gap_in_one_line_is_not_a_gutter():
    items = [layout.Item(w.box, word=w) for w in words_of(["Total:                   9.00"])]
    assert len(layout.order(items, HEIGHT)) == 1


def _grid(xs: list[float], ys: list[float], missing_v=()) -> list[Rule]:
    rules = [Rule(True, y, xs[0], xs[-1]) for y in ys]
    for x in xs:
        for top, bottom in itertools.pairwise(ys):
            if (x, top) not in missing_v:
                rules.append(Rule(False, x, top, bottom))
    return rules


def test_a_ruled_grid_with_a_spanning_cell():
    xs, ys = [0, 100, 200, 300], [0, 20, 40, 60]
    rules = _grid(xs, ys, missing_v={(100, 40), (200, 40)})  # the last row is one cell
    words = [Word("a", Box(10, 5, 20, 15)), Word("total", Box(10, 45, 60, 55))]
    (table,) = tables.find_tables(rules, words, HEIGHT)
    assert (table.rows, table.cols) == (3, 3)
    last = [c for c in table.cells if c.row == 2]
    assert [(c.col, c.col_span) for c in last] == [(0, 3)]
    assert [w.text for w in last[0].words] == ["total"]
    assert table.header_rows == 1


@pytest.mark.parametrize(
    "rules",
    [
        [Rule(True, 0, 0, 100), Rule(True, 50, 0, 100)],  # lines without verticals
        _grid([0, 100], [0, 50]),  # a frame
        _grid([0, 100], [0, 20, 40]),  # one column of two boxes
    ],
    ids=["rules-only", "frame", "one-column"],
)
def test_what_is_not_a_table(rules):
    assert tables.find_tables(rules, [], HEIGHT) == []
