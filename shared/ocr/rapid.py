"""RapidOCR (PaddleOCR's PP-OCRv6 small models) on ONNX Runtime: a reader for the pipeline, the
accurate option (`OCR_ENGINE=rapidocr`, extra `ocr-accurate`).

The models are the three ONNX files inside the `rapidocr` wheel (text detection, recognition,
and the 0/180 line classifier; sha256 in services/vision/MODELS.md). They are given to RapidOCR by
path, so it never looks for them elsewhere (its default is to download what is missing).

RapidOCR finds text lines and reads each; it has no blocks or paragraphs, so lines are grouped
here the way a reader sees them (`group_lines`): a line joins the block above it when it starts
under it, is about as tall, and the gap between them is less than a line's height. Each block is
one paragraph. Words come from the line's text split at spaces, their symbols from RapidOCR's
character boxes (a share of the word's box when the two disagree).

Approximations, said plainly: confidences are RapidOCR's recognition scores (per character and
per line); a word's language is the request's first language of its script (Han and kana text
as Chinese or Japanese when asked for, everything else the first other language).

The line classifier is off: the pipeline decides orientation for every engine by comparing
readings, so the page's `orientation` and its boxes' corner order stay true.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Sequence

import cv2
import numpy as np

from shared.errors import ApiError, Code, invalid_argument
from shared.ocr import spacing
from shared.ocr.preprocess import Prepared
from shared.ocr.reading import Reading
from shared.ocr.types import Block, Box, Break, Line, Page, Paragraph, Symbol, Word

# Languages of the PP-OCRv6 multilingual models (RapidOCR's `default_models.yaml`), as Google's
# BCP-47 codes: Chinese (simplified and traditional), Japanese, and Latin-script languages.
_CODES = (
    "zh zh-hant ja en af az bs ca cs cy da de es et eu fi fr ga gl hr hu id is it ku la lb lt "
    "lv mi ms mt nl no oc pl pt qu rm ro sr-latn sk sl sq sv sw tl tr uz vi"
)
SUPPORTED = frozenset(_CODES.split(" "))
_ALIASES = {"zh-cn": "zh", "zh-hans": "zh", "zh-tw": "zh-hant", "iw": "he", "nb": "no"}
_MODELS = {
    "Det.model_path": "PP-OCRv6_det_small.onnx",
    "Rec.model_path": "PP-OCRv6_rec_small.onnx",
    "Cls.model_path": "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
}
# Lines are merged into one block when the gap between them is at most this many line heights.
_BLOCK_GAP = 1.0
# The pipeline scales characters to ~32 px (what Tesseract reads best); PP-OCR reads ~20 px
# characters as well, and its detector's time grows with the area: the image is shrunk by this
# much first (CPU per image 0.55 -> 0.3 s on the OCR set, CER unchanged).
_SCALE = 0.6


def to_code(code: str) -> str:
    lowered = code.strip().lower().replace("_", "-")
    return _ALIASES.get(lowered, lowered)


def resolve(hints: Sequence[str], default: Sequence[str]) -> list[str]:
    """The request's languages (its hints, else `default`) as codes the models read;
    INVALID_ARGUMENT naming what they do not."""
    wanted = [to_code(code) for code in (hints or default)]
    # A region the models do not tell apart ("en-GB", "pt-BR") reads as its language.
    wanted = [code if code in SUPPORTED else code.split("-")[0] for code in wanted]
    missing = [code for code in wanted if code not in SUPPORTED]
    if missing:
        raise invalid_argument(
            f"Language hint(s) {', '.join(missing)} not supported by the rapidocr OCR engine. "
            f"Supported: {', '.join(sorted(SUPPORTED))}."
        )
    return list(dict.fromkeys(wanted))


class RapidOcrReader:
    """Reads prepared images with RapidOCR; engines are pooled (one thread uses one at a time:
    RapidOCR keeps per-call state on the engine)."""

    name = "rapidocr"
    # Upright text reads at 0.87-1.0 mean confidence, upside-down text at 0.38-0.85 (the OCR
    # set), but as far fewer characters than the line holds, which `Reading.sureness` counts.
    confident_reading = 0.80

    def __init__(self, max_engines: int = 2, threads: int = 2) -> None:
        try:
            import rapidocr  # the extra `ocr-accurate`
        except ImportError as error:
            raise ApiError(
                Code.UNAVAILABLE,
                "The rapidocr OCR engine is not installed: pip install -e '.[ocr-accurate]' "
                "(or set OCR_ENGINE=tesseract).",
            ) from error

        folder = os.path.join(os.path.dirname(rapidocr.__file__), "models")
        self._params = {key: os.path.join(folder, name) for key, name in _MODELS.items()}
        self._params.update(
            {
                "Global.log_level": "warning",
                "Global.use_cls": False,
                "Global.return_word_box": True,
                "Global.return_single_char_box": True,
                # Characters are already ~20 px (see `_SCALE`): the detector reads the image at
                # its size up to 2000 px (its default scales the short side up to 736 px: a
                # line 600 px wide would be read at 4000 px, 4x slower for nothing).
                "Det.limit_type": "max",
                "Det.limit_side_len": 2000,
                "EngineConfig.onnxruntime.intra_op_num_threads": threads,
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            }
        )
        self._max = max_engines
        self._created = 0
        self._lock = threading.Lock()
        self._idle: queue.LifoQueue = queue.LifoQueue()

    def resolve_languages(self, hints: Sequence[str], default: Sequence[str]) -> list[str]:
        return resolve(hints, default)

    def read(self, prepared: Prepared, languages: Sequence[str]) -> Reading:
        engine = self._acquire()
        try:
            small = cv2.resize(
                prepared.image, None, fx=_SCALE, fy=_SCALE, interpolation=cv2.INTER_AREA
            )
            output = engine(np.ascontiguousarray(np.repeat(small[..., None], 3, axis=2)))
        finally:
            self._idle.put(engine)
        raw = _raw_lines(output, prepared.image)
        blocks = _blocks(group_lines(raw), prepared, list(languages))
        width, height = prepared.original_size
        page = Page(
            width=width,
            height=height,
            blocks=blocks,
            engine=self.name,
            orientation=prepared.orientation,
            skew=prepared.skew,
        )
        words = [word for block in blocks for word in block.words]
        # Character-weighted, as long words are what a wrong turn garbles most.
        chars = sum(len(w.symbols) for w in words)
        score = sum(w.confidence * len(w.symbols) for w in words) / chars if chars else 0.0
        return Reading(page=page, confidence=score, density=_density(raw))

    def _acquire(self):
        with self._lock:
            create = self._idle.empty() and self._created < self._max
            if create:
                self._created += 1
        if not create:
            return self._idle.get()
        try:
            from rapidocr import RapidOCR

            return RapidOCR(params=self._params)
        except BaseException:
            with self._lock:
                self._created -= 1
            raise

    def close(self) -> None:
        while not self._idle.empty():
            self._idle.get_nowait()


# One recognised line in processed pixels: its four corners, score, and words, each a list of
# (character, confidence, four corners).
RawLine = tuple[np.ndarray, float, list[list[tuple[str, float, np.ndarray]]]]


def _raw_lines(output, image: np.ndarray) -> list[RawLine]:
    if output is None or output.txts is None or output.boxes is None:
        return []
    chars_per_line = output.word_results or [()] * len(output.txts)
    lines = []
    for text, score, quad, chars in zip(
        output.txts, output.scores, output.boxes, chars_per_line, strict=False
    ):
        quad = np.asarray(quad, float).reshape(4, 2) / _SCALE
        chars = [(ch, conf, np.asarray(q, float) / _SCALE) for ch, conf, q in chars or ()]
        text = str(text)
        if _aligned(text, chars):
            text = spacing.restore_spaces(image, text, [c for c in chars if str(c[0]).strip()])
        words = _words(text, float(score), quad, chars)
        if words:
            lines.append((quad, float(score), words))
    return lines


def _density(lines: list[RawLine]) -> float | None:
    """Characters read per line height of line length, over all lines. A line standing upright
    (taller than wide) counts as read wrong: RapidOCR turns such crops itself and reads them,
    which would make a page on its side look upright."""
    length = chars = 0.0
    for quad, _, words in lines:
        across = float(np.linalg.norm(quad[1] - quad[0]))
        down = float(np.linalg.norm(quad[3] - quad[0]))
        length += max(across, down) / max(min(across, down), 1.0)
        if across >= down:
            chars += sum(len(word) for word in words)
    return chars / length if length else None


def group_lines(lines: list[RawLine]) -> list[list[RawLine]]:
    """Lines into blocks, top to bottom: a line joins the block whose last line it sits under
    (overlapping it across, about as tall, less than a line's height below)."""
    blocks: list[list[RawLine]] = []
    for line in sorted(lines, key=lambda line: (line[0][:, 1].min(), line[0][:, 0].min())):
        quad = line[0]
        top, bottom = quad[:, 1].min(), quad[:, 1].max()
        left, right = quad[:, 0].min(), quad[:, 0].max()
        height = bottom - top
        for block in blocks:
            last = block[-1][0]
            last_height = last[:, 1].max() - last[:, 1].min()
            gap = top - last[:, 1].max()
            overlap = min(right, last[:, 0].max()) - max(left, last[:, 0].min())
            if (
                -0.5 * height <= gap <= _BLOCK_GAP * max(height, last_height)
                and overlap > 0
                and 0.6 <= height / max(last_height, 1.0) <= 1.7
            ):
                block.append(line)
                break
        else:
            blocks.append([line])
    # Reading order of blocks: top to bottom, then left to right.
    return sorted(blocks, key=lambda b: (b[0][0][:, 1].min(), b[0][0][:, 0].min()))


def _blocks(grouped: list[list[RawLine]], prepared: Prepared, languages: list[str]):
    blocks = []
    for raw_lines in grouped:
        lines = []
        for index, (quad, score, words) in enumerate(raw_lines):
            last_line = index == len(raw_lines) - 1
            built = []
            for position, chars in enumerate(words):
                if position < len(words) - 1:
                    brk = Break.SPACE
                else:
                    brk = Break.LINE_BREAK if last_line else Break.EOL_SURE_SPACE
                built.append(_word(prepared, chars, languages, brk))
            lines.append(Line(words=tuple(built), box=_box(prepared, quad), confidence=score))
        box = _box(prepared, np.concatenate([raw[0] for raw in raw_lines]))
        confidence = sum(line.confidence for line in lines) / len(lines)
        paragraph = Paragraph(lines=tuple(lines), box=box, confidence=confidence)
        blocks.append(Block(paragraphs=(paragraph,), box=box, confidence=confidence))
    return tuple(blocks)


def _words(text: str, score: float, quad: np.ndarray, chars: list) -> list[list]:
    """[(char, confidence, quad)] per word of the line's text."""
    tokens = text.split()
    flat = [c for c in chars if str(c[0]).strip()]
    if _aligned(text, chars):
        words, index = [], 0
        for token in tokens:
            part = flat[index : index + len(token)]
            index += len(token)
            words.append([(ch, float(conf), np.asarray(q, float)) for ch, conf, q in part])
        return words
    # RapidOCR's characters do not line up with its text: share the line's box out instead.
    return _shared_out(tokens, score, quad)


def _aligned(text: str, chars: list) -> bool:
    """Whether RapidOCR's character boxes are one per non-space character of its text."""
    flat = [c for c in chars if str(c[0]).strip()]
    return len("".join(text.split())) == len(flat) and all(len(str(c[0])) == 1 for c in flat)


def _shared_out(tokens: list[str], score: float, quad: np.ndarray) -> list[list]:
    total = sum(len(t) for t in tokens) + max(len(tokens) - 1, 0)
    if not total:
        return []
    top_left, top_right, bottom_right, bottom_left = quad

    def at(fraction: float) -> tuple[np.ndarray, np.ndarray]:
        return (
            top_left + (top_right - top_left) * fraction,
            bottom_left + (bottom_right - bottom_left) * fraction,
        )

    words, position = [], 0
    for token in tokens:
        word = []
        for char in token:
            (a, d), (b, c) = at(position / total), at((position + 1) / total)
            word.append((char, score, np.array([a, b, c, d])))
            position += 1
        words.append(word)
        position += 1
    return words


def _word(prepared: Prepared, chars: list, languages: list[str], brk: Break) -> Word:
    symbols = tuple(
        Symbol(
            text=ch,
            box=_box(prepared, q),
            confidence=conf,
            break_after=brk if i == len(chars) - 1 else None,
        )
        for i, (ch, conf, q) in enumerate(chars)
    )
    text = "".join(ch for ch, _, _ in chars)
    box = _box(prepared, np.concatenate([q for _, _, q in chars]))
    confidence = min(conf for _, conf, _ in chars)
    language = _language(text, languages)
    return Word(symbols=symbols, box=box, confidence=confidence, language=language)


def _box(prepared: Prepared, points) -> Box:
    """The upright rectangle around `points` (processed pixels), mapped to the original."""
    points = np.asarray(points, float).reshape(-1, 2)
    left, top = points.min(axis=0)
    right, bottom = points.max(axis=0)
    a, b, c, d = prepared.to_original([(left, top), (right, top), (right, bottom), (left, bottom)])
    return (a, b, c, d)


def _language(text: str, languages: list[str]) -> str:
    if any("\u3040" <= ch <= "\u30ff" for ch in text) and "ja" in languages:
        return "ja"
    if any("\u4e00" <= ch <= "\u9fff" for ch in text):
        for code in ("zh", "zh-hant", "ja"):
            if code in languages:
                return code
    latin = [code for code in languages if code not in ("zh", "zh-hant", "ja")]
    return latin[0] if latin else languages[0]
