"""VADER (`vaderSentiment`), extended where it is cheap, and with Google's magnitude.

VADER scores each word of its lexicon (-4..4), adjusted for boosters, capitals and a negation
in the three words before it, and weighs words around "but" (before x0.5, after x1.5). Added
here, each a small table or rule over VADER's own per-word valences:

- words reviews use that VADER's lexicon lacks (`LEXICON`): "expensive", "overpriced",
  "slow", "buggy", "unreliable", "affordable", "sturdy", ... (valences on VADER's scale);
- verbs that are neutral until negated (`NEGATABLE`): "it does not work", "didn't fit",
  "never arrived", "stopped working" are negative, where VADER finds nothing;
- a negation does not reach across a clause ("not cheap, but worth every penny": "worth" is
  not negated), where VADER negates any lexicon word up to three words on;
- contrast beyond "but": "however", "yet", "nevertheless", "nonetheless" weigh as "but" does;
  a concessive clause ("although the screen is great, ...", "..., though pricey") weighs x0.5
  and the main clause x1.5, the main clause being what the writer asserts;
- `magnitude`, as Google defines it: the strength of emotion whatever its sign, each
  emotional word adding its own normalised strength (|v| / sqrt(v^2 + 15), VADER's own
  normalisation), so it is >= |score|, grows with every emotional expression, and a sentence
  that loves and hates at once is strong, not neutral.
"""

from __future__ import annotations

import math
import threading
from typing import Any

from vaderSentiment.vaderSentiment import NEGATE, SentimentIntensityAnalyzer

LEXICON = {
    "expensive": -1.3,
    "overpriced": -2.0,
    "pricey": -1.0,
    "slow": -1.2,
    "laggy": -1.5,
    "cramped": -1.2,
    "flimsy": -1.6,
    "leaks": -1.3,
    "leaking": -1.3,
    "crashes": -1.6,
    "crashed": -1.6,
    "buggy": -1.6,
    "glitchy": -1.6,
    "mediocre": -1.3,
    "bland": -1.0,
    "stale": -1.2,
    "overcooked": -1.2,
    "dies": -1.5,
    "died": -1.5,
    "filthy": -2.2,
    "smelly": -1.5,
    "unreliable": -1.8,
    "unusable": -2.2,
    "outdated": -1.0,
    "reliable": 1.5,
    "sturdy": 1.3,
    "affordable": 1.2,
    "spacious": 1.3,
    "tasty": 1.8,
    "intuitive": 1.4,
}
# Verbs with no valence of their own that turn negative when negated; the value is what a
# negation flips (VADER's N_SCALAR -0.74 makes it about -1.5).
NEGATABLE = {
    word: 2.0
    for stem in ("work", "function", "fit", "arrive", "last", "charge", "connect", "load")
    for word in (stem, stem + "s", stem + "ed", stem + "ing", stem.rstrip("e") + "ed")
}
# Words that, before a NEGATABLE verb, negate it as "not" does: "it stopped working".
_STOPPERS = frozenset({"stopped", "stops", "stop", "quit", "ceased", "failed", "fails"})
_CONTRASTS = frozenset({"but", "however", "yet", "nevertheless", "nonetheless"})
_CONCESSIVES = frozenset({"although", "though", "whereas"})
_NEGATIONS = frozenset(NEGATE)


class Analyzer(SentimentIntensityAnalyzer):
    """`polarity_scores` returns VADER's `compound`, `pos`, `neg`, `neu` plus `magnitude`."""

    def __init__(self) -> None:
        super().__init__()
        self.lexicon.update(LEXICON)
        # The raw tokens of the text being scored, for clause boundaries (VADER strips the
        # commas off its tokens). Per thread: requests score concurrently.
        self._raw = threading.local()

    def polarity_scores(self, text: str) -> dict[str, float]:
        self._raw.tokens = text.split()
        try:
            return super().polarity_scores(text)
        finally:
            self._raw.tokens = None

    def sentiment_valence(self, valence, sentitext, item, i, sentiments):  # type: ignore[override]
        word = item.lower()
        if word in NEGATABLE and word not in self.lexicon:
            before = [w.lower() for w in sentitext.words_and_emoticons[max(0, i - 3) : i]]
            negated = any(w in _NEGATIONS or "n't" in w or w in _STOPPERS for w in before)
            sentiments.append(-0.74 * NEGATABLE[word] if negated else 0.0)
            return sentiments
        return super().sentiment_valence(valence, sentitext, item, i, sentiments)

    def _negation_check(self, valence, words_and_emoticons, start_i, i):  # type: ignore[override]
        first = i - (start_i + 1)
        between = [str(w).lower() for w in words_and_emoticons[first:i]]
        raw = getattr(self._raw, "tokens", None)
        ends_clause = (
            raw is not None
            and len(raw) == len(words_and_emoticons)
            and any(token.endswith((",", ";", ":")) for token in raw[first:i])
        )
        if ends_clause or any(w in _CONTRASTS or w in _CONCESSIVES for w in between):
            return valence
        return super()._negation_check(valence, words_and_emoticons, start_i, i)

    def _but_check(self, words_and_emoticons, sentiments):  # type: ignore[override]
        words = [str(w).lower() for w in words_and_emoticons]
        raw = getattr(self._raw, "tokens", None)
        weights = [1.0] * len(sentiments)
        contrast = next((i for i, w in enumerate(words) if w in _CONTRASTS), None)
        concessive = next((i for i, w in enumerate(words) if w in _CONCESSIVES), None)
        if contrast is not None:
            for i in range(len(weights)):
                weights[i] = 0.5 if i < contrast else 1.5 if i > contrast else 1.0
        elif concessive is not None and raw is not None and len(raw) == len(words):
            end = next(
                (i for i in range(concessive, len(raw)) if raw[i].endswith((",", ";"))),
                len(raw) - 1,
            )
            for i in range(len(weights)):
                weights[i] = 0.5 if concessive <= i <= end else 1.5
        return [s * w for s, w in zip(sentiments, weights, strict=True)]

    def score_valence(self, sentiments, text):  # type: ignore[override]
        scores: dict[str, Any] = super().score_valence(sentiments, text)
        scores["magnitude"] = round(sum(abs(s) / math.sqrt(s * s + 15) for s in sentiments), 4)
        return scores
