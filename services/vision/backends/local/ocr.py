"""TEXT_DETECTION and DOCUMENT_TEXT_DETECTION: the shared OCR engine's `Page` in Vision's types.

Produces what the real API returns for both features: `fullTextAnnotation` (pages -> blocks ->
paragraphs -> words -> symbols, each with a bounding box, confidence and detected languages; breaks
between words and lines as `detectedBreak`) and `textAnnotations` (the whole text with its locale
first, then one entry per word). Vision has no line level: lines show only as the break after
their last symbol. Boxes are in the original image's pixels, corners in reading order of the
upright text, as Google's are for rotated text (see `shared/ocr`).

Approximations, said plainly:
- `confidence` is the engine's own (Tesseract's 0-100 divided by 100, RapidOCR's scores);
- languages are the recognition languages weighted by recognised characters (RapidOCR: the
  request's first language of the word's script);
- `blockType` is always TEXT (the engines do not tell tables or pictures reliably);
- TEXT_DETECTION reads like DOCUMENT_TEXT_DETECTION (automatic page segmentation): on rendered
  and photographed text it read better than Tesseract's sparse-text mode.
"""

from __future__ import annotations

import dataclasses

from shared.gapictypes import message_types
from shared.ocr import types

vision = message_types("google.cloud.vision_v1")

BreakType = vision.TextAnnotation.DetectedBreak.BreakType


@dataclasses.dataclass
class OcrResult:
    full_text: vision.TextAnnotation
    text_annotations: list[vision.EntityAnnotation]


def to_vision(page: types.Page) -> OcrResult:
    full = vision.TextAnnotation(pages=[_page(page)], text=page.text)
    return OcrResult(full_text=full, text_annotations=_text_annotations(page, full.text))


def _page(page: types.Page) -> vision.Page:
    return vision.Page(
        width=page.width,
        height=page.height,
        blocks=[_block(block) for block in page.blocks],
        confidence=page.confidence,
        property=_property(page.languages),
    )


def _block(block: types.Block) -> vision.Block:
    return vision.Block(
        bounding_box=_poly(block.box),
        confidence=block.confidence,
        paragraphs=[_paragraph(p) for p in block.paragraphs],
        block_type=vision.Block.BlockType.TEXT,
        property=_property(block.languages),
    )


def _paragraph(paragraph: types.Paragraph) -> vision.Paragraph:
    return vision.Paragraph(
        bounding_box=_poly(paragraph.box),
        confidence=paragraph.confidence,
        words=[_word(w) for w in paragraph.words],
        property=_property(paragraph.languages),
    )


def _word(word: types.Word) -> vision.Word:
    languages = [types.DetectedLanguage(word.language, 1.0)] if word.language else []
    return vision.Word(
        bounding_box=_poly(word.box),
        confidence=word.confidence,
        symbols=[_symbol(s) for s in word.symbols],
        property=_property(languages),
    )


def _symbol(symbol: types.Symbol) -> vision.Symbol:
    prop = None
    if symbol.break_after is not None:
        prop = vision.TextAnnotation.TextProperty(
            detected_break=vision.TextAnnotation.DetectedBreak(
                type_=BreakType[symbol.break_after.value]
            )
        )
    return vision.Symbol(
        text=symbol.text,
        bounding_box=_poly(symbol.box),
        confidence=symbol.confidence,
        property=prop,
    )


def _poly(box: types.Box) -> vision.BoundingPoly:
    return vision.BoundingPoly(vertices=[vision.Vertex(x=x, y=y) for x, y in box])


def _property(
    languages: list[types.DetectedLanguage],
) -> vision.TextAnnotation.TextProperty | None:
    if not languages:
        return None
    return vision.TextAnnotation.TextProperty(
        detected_languages=[
            vision.TextAnnotation.DetectedLanguage(
                language_code=lang.code, confidence=lang.confidence
            )
            for lang in languages
        ]
    )


def _text_annotations(page: types.Page, text: str) -> list[vision.EntityAnnotation]:
    """The whole text with its locale and overall box first, then one entry per word."""
    if not text.strip():
        return []
    words = list(page.words)
    xs = [x for word in words for x, _ in word.box]
    ys = [y for word in words for _, y in word.box]
    languages = page.languages
    first = vision.EntityAnnotation(
        locale=languages[0].code if languages else "",
        description=text,
        bounding_poly=vision.BoundingPoly(
            vertices=[
                vision.Vertex(x=min(xs), y=min(ys)),
                vision.Vertex(x=max(xs), y=min(ys)),
                vision.Vertex(x=max(xs), y=max(ys)),
                vision.Vertex(x=min(xs), y=max(ys)),
            ]
        ),
    )
    return [first] + [
        vision.EntityAnnotation(description=word.text, bounding_poly=_poly(word.box))
        for word in words
    ]
