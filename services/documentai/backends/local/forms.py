"""Key/value pairs found by layout, on any page whose words and boxes exist.

- "Label: value" on one line: the label runs from the start of its stretch of the line (or
  the end of the previous value) to the word ending in ':'; the value runs to the end of the
  stretch or to the next label;
- a label alone with its value further right on the same line (a gap wider than a column
  gutter between them), or else directly below it (the next line, starting within a few
  characters of the label's left edge, and not itself a label);
- check boxes: a small square with the words right of it as its name; filled when something
  is drawn inside it (`valueType` "filled_checkbox" / "unfilled_checkbox", Google's values).

Words inside tables are not considered (cells are the tables' own). A label without a colon
is not taken as one: without it, layout alone cannot tell a label from text.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from services.documentai.backends.local.layout import GUTTER, Line, lines_of
from services.documentai.backends.local.model import Box, CheckBox, Word

# Longest label, in words: longer runs before a colon are sentences introducing a list.
MAX_LABEL_WORDS = 6
# A value below its label starts within this many word heights of the label's left edge and
# at most this many line heights below it.
BELOW_INDENT = 3.0
BELOW_GAP = 1.2


@dataclasses.dataclass
class Field:
    name: list[Word]
    value: list[Word]
    value_type: str = ""
    value_box: Box | None = None  # for a check box, the box itself


def _is_label_end(word: Word) -> bool:
    text = word.text
    return text.endswith(":") and not text.endswith("::")


def _segments(line: Line, unit: float) -> list[list[Word]]:
    """A line cut at gaps wider than a gutter: the stretches a form's columns make."""
    parts = [[line.words[0]]]
    for word in line.words[1:]:
        if word.box.x0 - parts[-1][-1].box.x1 >= GUTTER * unit:
            parts.append([word])
        else:
            parts[-1].append(word)
    return parts


def find_fields(words: Sequence[Word], checkboxes: Sequence[CheckBox], unit: float) -> list[Field]:
    fields = []
    taken: set[int] = set()
    lines = lines_of(words)
    for box in checkboxes:
        field = _checkbox(box, lines, unit, taken)
        if field is not None:
            fields.append(field)
    segment_lines = [
        [[w for w in seg if id(w) not in taken] for seg in _segments(line, unit)] for line in lines
    ]
    segment_lines = [[seg for seg in segs if seg] for segs in segment_lines]
    used: set[int] = set()
    for i, segments in enumerate(segment_lines):
        for j, segment in enumerate(segments):
            if id(segment[0]) in used:
                continue
            for name, value in _pairs(segment):
                if not value:
                    value = _value_right(segments, j, used) or _value_below(
                        name, segment_lines[i + 1 : i + 3], unit, used
                    )
                if value:
                    fields.append(Field(name, value))
    return fields


def _pairs(segment: list[Word]) -> list[tuple[list[Word], list[Word]]]:
    """(label, value) pairs of one stretch; a value may be empty (it lies elsewhere)."""
    ends = [k for k, w in enumerate(segment) if _is_label_end(w)]
    if not ends:
        return []
    pairs = []
    start = 0
    for n, k in enumerate(ends):
        # A colon standing apart ("Total :") is a word of its own: the label ends with it.
        label_start = max(start, k - MAX_LABEL_WORDS + 1)
        name = segment[label_start : k + 1]
        if n + 1 < len(ends):
            nxt = ends[n + 1]
            # The next label is its colon word and the capitalised words right before it,
            # leaving at least one word for this value.
            cut = nxt
            while cut - 1 > k + 1 and nxt - (cut - 1) < 3 and segment[cut - 1].text[:1].isupper():
                cut -= 1
            value = segment[k + 1 : cut]
            start = cut
        else:
            value = segment[k + 1 :]
        if any(c.isalnum() for w in name for c in w.text):
            pairs.append((name, value))
    return pairs


def _has_label(segment: list[Word]) -> bool:
    return any(_is_label_end(w) for w in segment)


def _value_right(segments: list[list[Word]], j: int, used: set[int]) -> list[Word]:
    if j + 1 < len(segments):
        candidate = segments[j + 1]
        if not _has_label(candidate):
            used.add(id(candidate[0]))
            return candidate
    return []


def _value_below(
    name: list[Word], next_lines: list[list[list[Word]]], unit: float, used: set[int]
) -> list[Word]:
    label = Box.around([w.box for w in name])
    for segments in next_lines[:1]:
        for segment in segments:
            first = segment[0]
            if id(first) in used or _has_label(segment):
                continue
            near_left = abs(first.box.x0 - label.x0) <= BELOW_INDENT * unit
            close = first.box.y0 - label.y1 <= BELOW_GAP * unit
            if near_left and close:
                used.add(id(first))
                return segment
    return []


def _checkbox(box: CheckBox, lines: list[Line], unit: float, taken: set[int]) -> Field | None:
    for line in lines:
        lb = line.box
        if not (lb.y0 - unit * 0.5 <= box.box.cy <= lb.y1 + unit * 0.5):
            continue
        right = [w for w in line.words if w.box.x0 >= box.box.x1 - 0.2 * unit]
        name: list[Word] = []
        edge = box.box.x1
        for word in right:
            if word.box.x0 - edge >= GUTTER * unit:
                break
            name.append(word)
            edge = word.box.x1
        if name:
            taken.update(id(w) for w in name)
            kind = "filled_checkbox" if box.filled else "unfilled_checkbox"
            return Field(name, [], kind, box.box)
    return None
