"""Sentiment from VADER (extended in `vader.py`), in Google's terms.

- A sentence's `score` is VADER's `compound` (already in [-1, 1]).
- A sentence's `magnitude` (>= 0, the strength of emotion whatever its sign) is the sum of
  its emotional words' strengths (`vader.py`), as Google defines magnitude: every expression
  of emotion adds to it, so a sentence that loves and hates at once is strong, not neutral
  (never below |score|, which counts VADER's punctuation emphasis too).
- The document's `score` is the mean of its sentences' scores; its `magnitude` is the sum of
  theirs, as Google describes magnitude (it grows with the length of an emotional text).
- An entity's sentiment (analyzeEntitySentiment) is that of the sentences its mentions are in:
  each mention gets its sentence's sentiment, the entity the mean score and summed magnitude.

VADER is an English lexicon; other languages are refused before they get here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from shared.gapictypes import message_types

language_v1 = message_types("google.cloud.language_v1")


def sentence_sentiment(
    polarity: Callable[[str], dict[str, float]], text: str
) -> language_v1.Sentiment:
    scores = polarity(text)
    compound = float(scores["compound"])
    magnitude = max(float(scores["magnitude"]), abs(compound))
    return language_v1.Sentiment(score=round(compound, 4), magnitude=round(magnitude, 4))


def combine(parts: Sequence[language_v1.Sentiment]) -> language_v1.Sentiment:
    """Mean score and summed magnitude; neutral for nothing."""
    if not parts:
        return language_v1.Sentiment(score=0.0, magnitude=0.0)
    score = sum(part.score for part in parts) / len(parts)
    magnitude = sum(part.magnitude for part in parts)
    return language_v1.Sentiment(score=round(score, 4), magnitude=round(magnitude, 4))
