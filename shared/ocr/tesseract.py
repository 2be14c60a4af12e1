"""Tesseract 5 through tesserocr: a pool of warm engines, and a reader that turns one reading
into the engine-neutral `Page`.

An engine costs 0.1-0.3 s and tens of MB to load a language, and one engine serves one thread at
a time, so engines are pooled per (languages, page segmentation mode) and reused.

The tesserocr wheel carries its own libtesseract but no language data; the data comes from
Debian's `tesseract-ocr-<lang>` packages (or `$TESSDATA_PREFIX`).

Approximations: confidences are Tesseract's (0-100) divided by 100; a word's language is the
recognition language Tesseract used for it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import queue
import threading
from collections.abc import Iterator, Sequence

import tesserocr
from tesserocr import PSM, RIL

from shared.errors import ApiError, Code
from shared.ocr import languages
from shared.ocr.preprocess import Prepared
from shared.ocr.reading import Reading, box_builder
from shared.ocr.types import Block, Break, Line, Page, Paragraph, Symbol, Word


class TesseractReader:
    """Reads prepared images with Tesseract (automatic page segmentation, LSTM engine)."""

    name = "tesseract"

    def __init__(self, tessdata: str | None, max_per_key: int = 2) -> None:
        found = languages.find_tessdata(tessdata)
        if found is None:
            raise ApiError(
                Code.UNAVAILABLE,
                "Tesseract language data is not installed: run `make install` or "
                "apt-get install tesseract-ocr-eng tesseract-ocr-osd.",
            )
        self.pool = EnginePool(found, max_per_key=max_per_key)

    def resolve_languages(self, hints: Sequence[str], default: Sequence[str]) -> list[str]:
        return languages.resolve_tesseract(hints, default, self.pool.tessdata)

    def read(self, prepared: Prepared, langs: Sequence[str]) -> Reading:
        with self.pool.engine("+".join(langs), int(PSM.AUTO)) as api:
            api.SetImage(prepared.pil())
            api.Recognize()
            confidences = api.AllWordConfidences()
            page = _build_page(api, prepared)
            dictionary = _dictionary_share(api)
        score = sum(confidences) / len(confidences) / 100.0 if confidences else 0.0
        return Reading(page=page, confidence=score, dictionary=dictionary)

    def close(self) -> None:
        self.pool.close()


@dataclasses.dataclass
class _Node:
    """A block, paragraph, line or word under construction."""

    box: tuple[int, int, int, int]
    confidence: float
    children: list = dataclasses.field(default_factory=list)
    language: str | None = None


def _build_page(api: tesserocr.PyTessBaseAPI, prepared: Prepared) -> Page:
    box = box_builder(prepared)
    blocks: list[_Node] = []
    iterator = api.GetIterator()
    for symbol_it in tesserocr.iterate_level(iterator, RIL.SYMBOL) if iterator else ():
        try:
            text = symbol_it.GetUTF8Text(RIL.SYMBOL)
        except RuntimeError:  # tesserocr's way of saying "no text here" (a blank page)
            continue
        symbol_box = symbol_it.BoundingBox(RIL.SYMBOL)
        if not text or symbol_box is None:
            continue
        if symbol_it.IsAtBeginningOf(RIL.BLOCK) or not blocks:
            blocks.append(_node(symbol_it, RIL.BLOCK))
        block = blocks[-1]
        if symbol_it.IsAtBeginningOf(RIL.PARA) or not block.children:
            block.children.append(_node(symbol_it, RIL.PARA))
        paragraph = block.children[-1]
        if symbol_it.IsAtBeginningOf(RIL.TEXTLINE) or not paragraph.children:
            paragraph.children.append(_node(symbol_it, RIL.TEXTLINE))
        line = paragraph.children[-1]
        if symbol_it.IsAtBeginningOf(RIL.WORD) or not line.children:
            word = _node(symbol_it, RIL.WORD)
            code = symbol_it.WordRecognitionLanguage()
            word.language = languages.to_bcp47(code) if code else None
            line.children.append(word)
        line.children[-1].children.append(
            Symbol(
                text=text,
                box=box(symbol_box),
                confidence=symbol_it.Confidence(RIL.SYMBOL) / 100.0,
                break_after=_break_after(symbol_it),
            )
        )
    width, height = prepared.original_size
    return Page(
        width=width,
        height=height,
        blocks=tuple(
            Block(
                paragraphs=tuple(
                    Paragraph(
                        lines=tuple(
                            Line(
                                words=tuple(
                                    Word(tuple(w.children), box(w.box), w.confidence, w.language)
                                    for w in line.children
                                ),
                                box=box(line.box),
                                confidence=line.confidence,
                            )
                            for line in paragraph.children
                        ),
                        box=box(paragraph.box),
                        confidence=paragraph.confidence,
                    )
                    for paragraph in block.children
                ),
                box=box(block.box),
                confidence=block.confidence,
            )
            for block in blocks
        ),
        engine=TesseractReader.name,
        orientation=prepared.orientation,
        skew=prepared.skew,
    )


def _dictionary_share(api: tesserocr.PyTessBaseAPI) -> float | None:
    """Share of the words of three letters or more that Tesseract found in its dictionary."""
    iterator = api.GetIterator()
    found = total = 0
    for word_it in tesserocr.iterate_level(iterator, RIL.WORD) if iterator else ():
        try:
            text = word_it.GetUTF8Text(RIL.WORD)
        except RuntimeError:
            continue
        if sum(char.isalpha() for char in text or "") < 3:
            continue
        total += 1
        found += bool(word_it.WordIsFromDictionary())
    return found / total if total else None


def _node(iterator, level: int) -> _Node:
    return _Node(iterator.BoundingBox(level), iterator.Confidence(level) / 100.0)


def _break_after(it) -> Break | None:
    if it.IsAtFinalElement(RIL.PARA, RIL.SYMBOL):
        return Break.LINE_BREAK
    if it.IsAtFinalElement(RIL.TEXTLINE, RIL.SYMBOL):
        return Break.EOL_SURE_SPACE
    if it.IsAtFinalElement(RIL.WORD, RIL.SYMBOL):
        return Break.SPACE
    return None


class EnginePool:
    """Warm `PyTessBaseAPI` engines, keyed by (languages, psm). Thread-safe."""

    def __init__(self, tessdata: str, max_per_key: int = 4) -> None:
        self.tessdata = tessdata
        self._max_per_key = max_per_key
        # Protects `_idle` and `_created` (the per-key bookkeeping), not the engines themselves:
        # an engine is used by one thread at a time because it is out of the queue while in use.
        self._lock = threading.Lock()
        self._idle: dict[tuple[str, int], queue.LifoQueue[tesserocr.PyTessBaseAPI]] = {}
        self._created: dict[tuple[str, int], int] = {}

    @contextlib.contextmanager
    def engine(self, languages: str, psm: int) -> Iterator[tesserocr.PyTessBaseAPI]:
        key = (languages, psm)
        with self._lock:
            idle = self._idle.setdefault(key, queue.LifoQueue())
            create = idle.empty() and self._created.get(key, 0) < self._max_per_key
            if create:
                self._created[key] = self._created.get(key, 0) + 1
        try:
            api = self._create(languages, psm) if create else idle.get()
        except BaseException:
            with self._lock:
                self._created[key] -= 1
            raise
        try:
            yield api
        finally:
            api.Clear()
            idle.put(api)

    def _create(self, languages: str, psm: int) -> tesserocr.PyTessBaseAPI:
        api = tesserocr.PyTessBaseAPI(
            path=self.tessdata, lang=languages, psm=psm, oem=tesserocr.OEM.LSTM_ONLY
        )
        # Photos carry no resolution; Tesseract otherwise warns and guesses per image.
        api.SetVariable("user_defined_dpi", "300")
        return api

    def close(self) -> None:
        with self._lock:
            for idle in self._idle.values():
                while not idle.empty():
                    idle.get_nowait().End()
            self._idle.clear()
            self._created.clear()
