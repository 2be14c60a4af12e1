"""Sentiment beyond VADER's lexicon, through the official client: negation, contrast and
review words, each case with the sign a reader gives it, scored at least as well as plain
VADER scores them; and magnitude as Google defines it.

`TUNE` is what the extensions (services/language/backends/local/vader.py) were written
against; `HELD_OUT` was written with it and only measured.
"""

from __future__ import annotations

import pytest
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from tests.services.language.conftest import document

TUNE = [
    ("The food was good but expensive.", -1),
    ("Not bad at all.", 1),
    ("It does not work.", -1),
    ("The battery stopped working after a week.", -1),
    ("Although the screen is great, the battery dies quickly.", -1),
    ("Great camera, however the battery is terrible.", -1),
    ("I would not recommend it.", -1),
    ("The hotel was not cheap, but worth every penny.", 1),
    ("It is not the worst phone I have owned.", 1),
    ("The phone is great, though pricey.", 1),
    ("It is not very good.", -1),
    ("I do not love it.", -1),
]
HELD_OUT = [
    ("The charger never arrived.", -1),
    ("The seats were comfortable, but the flight was overpriced.", -1),
    ("The app is buggy and crashes every day.", -1),
    ("Service was slow, yet the staff were friendly and helpful.", 1),
    ("It didn't fit and the fabric feels flimsy.", -1),
    ("Not the best pizza, but definitely tasty.", 1),
    ("Although it was raining, we had a wonderful time.", 1),
    ("The laptop is sturdy, reliable and affordable.", 1),
    ("The room was not dirty at all.", 1),
    ("Nothing about this update is good.", -1),
    ("The plot was mediocre and the dialogue bland.", -1),
    ("I love the design, but it is unusable in sunlight.", -1),
]


def vader_sign_right(cases) -> int:
    vader = SentimentIntensityAnalyzer()
    return sum(vader.polarity_scores(text)["compound"] * sign > 0.05 for text, sign in cases)


def sign_right(client, cases) -> list[str]:
    wrong = []
    for text, sign in cases:
        score = client.analyze_sentiment(document=document(text)).document_sentiment.score
        if score * sign <= 0.05:
            wrong.append(f"{text!r}: {score}")
    return wrong


@pytest.mark.parametrize(("part", "cases"), [("tune", TUNE), ("held out", HELD_OUT)])
def test_negation_and_contrast_beat_plain_vader(client, part, cases):
    wrong = sign_right(client, cases)
    right = len(cases) - len(wrong)
    assert right >= vader_sign_right(cases), wrong
    assert right / len(cases) >= (0.9 if part == "tune" else 0.8), wrong


def test_magnitude_adds_every_emotion_whatever_its_sign(client):
    mixed = client.analyze_sentiment(document=document("I love the screen and hate the battery."))
    single = client.analyze_sentiment(document=document("I love the screen."))
    neutral = client.analyze_sentiment(document=document("The screen is six inches wide."))
    # Love and hate cancel in the score, not in the magnitude.
    assert abs(mixed.document_sentiment.score) < 0.3
    assert mixed.document_sentiment.magnitude > single.document_sentiment.magnitude > 0.3
    assert neutral.document_sentiment.magnitude == 0
    for response in (mixed, single):
        sentiment = response.document_sentiment
        assert sentiment.magnitude >= abs(sentiment.score)


def test_magnitude_grows_with_the_length_of_an_emotional_text(client):
    one = "The staff were wonderful."
    three = " ".join([one, "The food was delicious.", "The view was stunning."])
    short = client.analyze_sentiment(document=document(one)).document_sentiment
    long = client.analyze_sentiment(document=document(three)).document_sentiment
    assert long.magnitude > 2 * short.magnitude
    assert long.score == pytest.approx(short.score, abs=0.25)
