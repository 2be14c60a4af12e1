"""A born-digital PDF page through pdfplumber: its words with their boxes (in points), the
ruled lines its drawing makes (rectangle and line edges), and its check boxes (small squares,
filled when anything is drawn or written inside them). Confidence is 1: the text is the
file's own, not a reading."""

from __future__ import annotations

from services.documentai.backends.local.model import Box, CheckBox, PageContent, Rule, Word

# A check box is a square of this many points a side (form check boxes are 6-16 pt).
CHECKBOX_POINTS = (5.0, 20.0)
# Edges shorter than this many word heights are glyph-sized strokes (check boxes,
# underlines of a letter), not table rules.
MIN_RULE = 1.5
_MARKS = frozenset("xX✓✔✗✘■●")


def read_page(page, number: int) -> PageContent:
    words = [
        Word(w["text"], Box(w["x0"], w["top"], w["x1"], w["bottom"]), 1.0)
        for w in page.extract_words(x_tolerance=1.5, y_tolerance=2.0)
        if w["text"].strip()
    ]
    content = PageContent(number, float(page.width), float(page.height), "points", words)
    unit = content.text_height
    boxes = _checkboxes(page, words)
    if boxes:
        inside = {id(w) for w in words for b in boxes if b.box.contains_point(w.box.cx, w.box.cy)}
        content.words = [w for w in words if id(w) not in inside]
    content.checkboxes = boxes
    content.rules = _rules(page, unit)
    return content


def _rules(page, unit: float) -> list[Rule]:
    rules = []
    for edge in page.edges:
        if edge["orientation"] == "h":
            rule = Rule(True, (edge["top"] + edge["bottom"]) / 2, edge["x0"], edge["x1"])
        else:
            rule = Rule(False, (edge["x0"] + edge["x1"]) / 2, edge["top"], edge["bottom"])
        if rule.end - rule.start >= MIN_RULE * unit:
            rules.append(rule)
    return rules


def _checkboxes(page, words: list[Word]) -> list[CheckBox]:
    low, high = CHECKBOX_POINTS
    found = []
    for rect in page.rects:
        width, height = rect["x1"] - rect["x0"], rect["bottom"] - rect["top"]
        if not (low <= width <= high and abs(width - height) <= 0.2 * width):
            continue
        box = Box(rect["x0"], rect["top"], rect["x1"], rect["bottom"])
        marked = any(
            w.text in _MARKS and box.contains_point(w.box.cx, w.box.cy) for w in words
        ) or any(
            box.contains_point((s["x0"] + s["x1"]) / 2, (s["top"] + s["bottom"]) / 2)
            for s in (*page.lines, *page.curves)
        )
        filled = bool(rect.get("fill")) and _dark(rect.get("non_stroking_color"))
        found.append(CheckBox(box, marked or filled))
    return found


def _dark(colour) -> bool:
    if colour is None:
        return False
    values = colour if isinstance(colour, list | tuple) else [colour]
    try:
        numbers = [float(v) for v in values]
    except (TypeError, ValueError):
        return False
    if len(numbers) == 4:  # CMYK: dark when the black or the inks are high
        return numbers[3] > 0.5 or sum(numbers[:3]) > 1.5
    return sum(numbers) / max(len(numbers), 1) < 0.5
