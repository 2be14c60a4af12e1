"""One Apertium direction's warm pipeline, run for real: a batch more than twice what a pipe
takes at once is written in parts between reads, and comes back whole and in order, with the
pipeline usable for the next one."""

from __future__ import annotations

import pytest

from services.translation.backends.local import apertium, markup
from services.translation.settings import TranslationSettings

PIPE_BUFFER = 64 * 1024  # Linux's default pipe capacity


@pytest.fixture(scope="module")
def pipeline():
    pairs = apertium.discover(TranslationSettings().apertium_dir)
    pipeline = apertium.Pipeline(pairs["en", "es"], timeout_s=60)
    yield pipeline
    pipeline.close()


def translate(pipeline: apertium.Pipeline, texts: list[str]) -> list[str]:
    streams = pipeline.translate([markup.deformat_text(text) for text in texts])
    return [markup.reformat(stream, is_html=False) for stream in streams]


def test_a_batch_larger_than_the_pipes_comes_back_whole_and_in_order(pipeline):
    pieces = [f"The house number {n} is red and the garden is very big." for n in range(3000)]
    assert sum(len(markup.deformat_text(piece)) + 1 for piece in pieces) > 2 * PIPE_BUFFER

    translated = translate(pipeline, pieces)

    assert len(translated) == len(pieces)
    for n, text in zip(range(len(pieces)), translated, strict=True):
        assert f" {n} " in text, text  # the numbers pass through: each answer is its own line's
        assert "casa" in text.lower(), text
    assert translate(pipeline, ["The house is red."])[0].lower().startswith("la casa")
