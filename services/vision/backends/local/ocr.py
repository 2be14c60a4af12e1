"""TEXT_DETECTION and DOCUMENT_TEXT_DETECTION with Tesseract, in Vision's own types.

Produces what the real API returns for both features: `fullTextAnnotation` (pages -> blocks ->
paragraphs -> words -> symbols, each with a bounding box, confidence and detected languages; breaks
between words and lines as `detectedBreak`) and `textAnnotations` (the whole text with its locale
first, then one entry per word). Boxes are in the original image's pixels, corners in reading
order of the upright text (top-left, top-right, bottom-right, bottom-left), as Google's are for
rotated text.

Approximations, said plainly:
- `confidence` is Tesseract's (0-100) divided by 100;
- page languages are the recognition languages weighted by recognised characters;
- `blockType` is always TEXT (Tesseract's layout does not tell tables or pictures reliably);
- TEXT_DETECTION uses automatic page segmentation like DOCUMENT_TEXT_DETECTION: on rendered and
  photographed text it read better than Tesseract's sparse-text mode.
"""

from __future__ import annotations

import dataclasses
from collections import Counter

import numpy as np
import tesserocr
from google.cloud import vision
from tesserocr import PSM, RIL

from services.vision.backends.local.preprocess import Prepared, prepare
from services.vision.backends.local.tesseract import EnginePool, to_bcp47

Break = vision.TextAnnotation.DetectedBreak.BreakType
# OSD is trusted only above this confidence (Tesseract's own scale; 2.0 rejects most noise).
MIN_ORIENTATION_CONFIDENCE = 2.0
# Upright text reads at 90-97 mean word confidence; text on its side or upside down at 30-45
# (measured on the test images); noisy upright text at about 80.
CONFIDENT_READING = 70.0


@dataclasses.dataclass
class OcrResult:
    full_text: vision.TextAnnotation
    text_annotations: list[vision.EntityAnnotation]


def recognise(
    image, pool: EnginePool, languages: list[str], *, detect_orientation: bool = True
) -> OcrResult:
    """OCR one PIL image with the given Tesseract languages (e.g. ["eng", "fra"]).

    Orientation detection (OSD) costs as much as a reading, and most images are upright, so the
    image is read as it is first; only a hesitant reading (mean word confidence below
    `CONFIDENT_READING`) asks OSD, and the more confident of the two readings wins."""
    prepared = prepare(image)
    page, confidence = _read(prepared, pool, languages)
    if detect_orientation and confidence < CONFIDENT_READING:
        turned = _turned_upright(prepared, pool)
        if turned is not None:
            turned_page, turned_confidence = _read(turned, pool, languages)
            if turned_confidence > confidence:
                page = turned_page
    return OcrResult(full_text=page, text_annotations=_text_annotations(page))


def _read(
    prepared: Prepared, pool: EnginePool, languages: list[str]
) -> tuple[vision.TextAnnotation, float]:
    """The page, and Tesseract's mean word confidence (0-100; 0 for no words)."""
    with pool.engine("+".join(languages), int(PSM.AUTO)) as api:
        api.SetImage(prepared.pil())
        api.Recognize()
        confidences = api.AllWordConfidences()
        page = _build_page(api, prepared)
    return page, float(np.mean(confidences)) if confidences else 0.0


def _turned_upright(prepared: Prepared, pool: EnginePool) -> Prepared | None:
    """A copy turned upright when OSD is confident the text is on its side or upside down."""
    with pool.engine("osd", int(PSM.OSD_ONLY)) as api:
        api.SetImage(prepared.pil())
        try:
            osd = api.DetectOrientationScript()
        except RuntimeError:
            return None  # too little text to tell
    if not osd or osd.get("orient_conf", 0.0) < MIN_ORIENTATION_CONFIDENCE:
        return None
    degrees = int(osd.get("orient_deg", 0))
    if not degrees:
        return None
    turned = dataclasses.replace(prepared)
    # orient_deg is the clockwise rotation of the input; turn it back counter-clockwise.
    turned.rotate90(degrees)
    return turned


@dataclasses.dataclass
class _Node:
    """A block, paragraph or word under construction."""

    box: tuple[int, int, int, int]
    confidence: float
    children: list = dataclasses.field(default_factory=list)
    language: str | None = None


def _build_page(api: tesserocr.PyTessBaseAPI, prepared: Prepared) -> vision.TextAnnotation:
    width, height = prepared.original_size
    blocks: list[_Node] = []
    chars_by_language: Counter[str] = Counter()
    iterator = api.GetIterator()
    if iterator is None:
        return _page(width, height, [], chars_by_language, "")
    text_parts: list[str] = []
    for symbol_it in tesserocr.iterate_level(iterator, RIL.SYMBOL):
        try:
            text = symbol_it.GetUTF8Text(RIL.SYMBOL)
        except RuntimeError:  # tesserocr's way of saying "no text here" (a blank page)
            continue
        box = symbol_it.BoundingBox(RIL.SYMBOL)
        if not text or box is None:
            continue
        if symbol_it.IsAtBeginningOf(RIL.BLOCK) or not blocks:
            blocks.append(_Node(symbol_it.BoundingBox(RIL.BLOCK), symbol_it.Confidence(RIL.BLOCK)))
        block = blocks[-1]
        if symbol_it.IsAtBeginningOf(RIL.PARA) or not block.children:
            block.children.append(
                _Node(symbol_it.BoundingBox(RIL.PARA), symbol_it.Confidence(RIL.PARA))
            )
        paragraph = block.children[-1]
        if symbol_it.IsAtBeginningOf(RIL.WORD) or not paragraph.children:
            language = symbol_it.WordRecognitionLanguage() or None
            paragraph.children.append(
                _Node(
                    symbol_it.BoundingBox(RIL.WORD),
                    symbol_it.Confidence(RIL.WORD),
                    language=language,
                )
            )
        word = paragraph.children[-1]
        brk = _break_after(symbol_it)
        word.children.append(
            vision.Symbol(
                text=text,
                bounding_box=_poly(prepared, box),
                confidence=symbol_it.Confidence(RIL.SYMBOL) / 100.0,
                property=_break_property(brk),
            )
        )
        if word.language:
            chars_by_language[word.language] += len(text)
        text_parts.append(text + _BREAK_TEXT.get(brk, ""))
    return _page(
        width, height, [_block(prepared, b) for b in blocks], chars_by_language, "".join(text_parts)
    )


_BREAK_TEXT = {Break.SPACE: " ", Break.EOL_SURE_SPACE: "\n", Break.LINE_BREAK: "\n"}


def _break_after(it) -> int | None:
    if it.IsAtFinalElement(RIL.PARA, RIL.SYMBOL):
        return Break.LINE_BREAK
    if it.IsAtFinalElement(RIL.TEXTLINE, RIL.SYMBOL):
        return Break.EOL_SURE_SPACE
    if it.IsAtFinalElement(RIL.WORD, RIL.SYMBOL):
        return Break.SPACE
    return None


def _break_property(brk: int | None) -> vision.TextAnnotation.TextProperty | None:
    if brk is None:
        return None
    return vision.TextAnnotation.TextProperty(
        detected_break=vision.TextAnnotation.DetectedBreak(type_=brk)
    )


def _poly(prepared: Prepared, box: tuple[int, int, int, int]) -> vision.BoundingPoly:
    x1, y1, x2, y2 = box
    corners = prepared.to_original([(x1, y1), (x2, y1), (x2, y2), (x1, y2)])
    return vision.BoundingPoly(vertices=[vision.Vertex(x=x, y=y) for x, y in corners])


def _languages(counts: Counter[str]) -> list[vision.TextAnnotation.DetectedLanguage]:
    total = sum(counts.values())
    return [
        vision.TextAnnotation.DetectedLanguage(language_code=to_bcp47(code), confidence=n / total)
        for code, n in counts.most_common()
    ]


def _block(prepared: Prepared, node: _Node) -> vision.Block:
    paragraphs = []
    block_languages: Counter[str] = Counter()
    for para in node.children:
        words = []
        para_languages: Counter[str] = Counter()
        for word in para.children:
            if word.language:
                para_languages[word.language] += len(word.children)
            words.append(
                vision.Word(
                    bounding_box=_poly(prepared, word.box),
                    confidence=word.confidence / 100.0,
                    symbols=word.children,
                    property=_text_property(Counter({word.language: 1}) if word.language else None),
                )
            )
        block_languages.update(para_languages)
        paragraphs.append(
            vision.Paragraph(
                bounding_box=_poly(prepared, para.box),
                confidence=para.confidence / 100.0,
                words=words,
                property=_text_property(para_languages),
            )
        )
    return vision.Block(
        bounding_box=_poly(prepared, node.box),
        confidence=node.confidence / 100.0,
        paragraphs=paragraphs,
        block_type=vision.Block.BlockType.TEXT,
        property=_text_property(block_languages),
    )


def _text_property(counts: Counter[str] | None) -> vision.TextAnnotation.TextProperty | None:
    if not counts:
        return None
    return vision.TextAnnotation.TextProperty(detected_languages=_languages(counts))


def _page(width, height, blocks, languages: Counter[str], text: str) -> vision.TextAnnotation:
    confidences = [b.confidence for b in blocks]
    page = vision.Page(
        width=width,
        height=height,
        blocks=blocks,
        confidence=float(np.mean(confidences)) if confidences else 0.0,
        property=_text_property(languages),
    )
    return vision.TextAnnotation(pages=[page], text=text)


def _text_annotations(full: vision.TextAnnotation) -> list[vision.EntityAnnotation]:
    """The whole text with its locale and overall box first, then one entry per word."""
    if not full.text.strip():
        return []
    words = [
        word
        for page in full.pages
        for block in page.blocks
        for paragraph in block.paragraphs
        for word in paragraph.words
    ]
    points = [(v.x, v.y) for w in words for v in w.bounding_box.vertices]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    page_languages = full.pages[0].property.detected_languages if full.pages else []
    first = vision.EntityAnnotation(
        locale=page_languages[0].language_code if page_languages else "",
        description=full.text,
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
        vision.EntityAnnotation(
            description="".join(s.text for s in word.symbols), bounding_poly=word.bounding_box
        )
        for word in words
    ]
