"""The engine-neutral reading: how its text is written out and how languages are weighted."""

from __future__ import annotations

import subprocess
import sys

from shared.ocr.types import (
    Block,
    Break,
    Line,
    Page,
    Paragraph,
    Symbol,
    Word,
    enclosing,
)

BOX = ((0, 0), (10, 0), (10, 10), (0, 10))


def _word(text: str, last: Break, language: str | None = "en") -> Word:
    symbols = [Symbol(char, BOX, 0.9) for char in text[:-1]]
    symbols.append(Symbol(text[-1], BOX, 0.9, break_after=last))
    return Word(tuple(symbols), BOX, 0.9, language)


def _page(*lines: tuple[Word, ...]) -> Page:
    paragraph = Paragraph(tuple(Line(words, BOX, 0.9) for words in lines), BOX, 0.9)
    return Page(100, 50, (Block((paragraph,), BOX, 0.8),), engine="test")


def test_text_writes_breaks_as_vision_does():
    page = _page(
        (_word("Hello", Break.SPACE), _word("world", Break.EOL_SURE_SPACE)),
        (_word("again", Break.LINE_BREAK),),
    )
    assert page.text == "Hello world\nagain\n"
    assert [w.text for w in page.words] == ["Hello", "world", "again"]
    assert page.blocks[0].paragraphs[0].lines[0].text == "Hello world"
    assert page.confidence == 0.8


def test_languages_are_weighted_by_characters():
    page = _page(
        (_word("abc", Break.SPACE, "en"), _word("d", Break.LINE_BREAK, "fr")),
    )
    languages = page.languages
    assert [(lang.code, lang.confidence) for lang in languages] == [("en", 0.75), ("fr", 0.25)]


def test_an_empty_page_has_no_text_and_no_confidence():
    page = Page(10, 10, (), engine="test")
    assert page.text == ""
    assert page.confidence == 0.0
    assert page.languages == []


def test_enclosing_box():
    assert enclosing([((1, 2), (5, 2), (5, 6), (1, 6)), ((3, 0), (9, 0), (9, 4), (3, 4))]) == (
        (1, 0),
        (9, 0),
        (9, 6),
        (1, 6),
    )


def test_settings_and_types_import_no_engine():
    # A `cloud` process imports `shared.ocr` for its settings: no engine may come with it.
    code = (
        "import sys, shared.ocr, shared.ocr.types, shared.ocr.languages;"
        "shared.ocr.OcrSettings.from_env('vision', {'VISION_OCR_LANGUAGES': 'en,fr'});"
        "heavy = [m for m in ('tesserocr', 'cv2', 'numpy', 'PIL', 'rapidocr', 'onnxruntime')"
        " if m in sys.modules]; print(heavy)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
