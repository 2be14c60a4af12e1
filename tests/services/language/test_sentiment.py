"""analyzeSentiment through the official clients: sign right on clear cases, magnitude the sum
of the sentences', sentence spans with offsets."""

from __future__ import annotations

import pytest
from google.cloud import language_v1, language_v2

from tests.services.language.conftest import document

CLEAR = [
    ("I love this phone. It is fantastic and works perfectly!", 1),
    ("This was the worst meal I have ever had. Terrible service.", -1),
    ("What a wonderful, happy day with great friends.", 1),
    ("I hate waiting. The delay was awful and the staff were rude.", -1),
    ("The weather is sunny and I feel great.", 1),
    ("The product broke after one day. Horrible and useless.", -1),
]


@pytest.mark.parametrize(("text", "sign"), CLEAR)
def test_score_sign_on_clear_cases(client, text, sign):
    response = client.analyze_sentiment(document=document(text))
    assert response.document_sentiment.score * sign > 0.2
    assert -1 <= response.document_sentiment.score <= 1
    assert response.language == "en"


def test_magnitude_is_the_sum_of_sentence_magnitudes(client):
    text = "I love it. I hate the price. The box is brown."
    response = client.analyze_sentiment(
        document=document(text), encoding_type=language_v1.EncodingType.UTF8
    )
    sentences = response.sentences
    assert [s.text.content for s in sentences] == [
        "I love it.",
        "I hate the price.",
        "The box is brown.",
    ]
    assert [s.text.begin_offset for s in sentences] == [0, 11, 29]
    assert response.document_sentiment.magnitude == pytest.approx(
        sum(s.sentiment.magnitude for s in sentences), abs=1e-3
    )
    assert sentences[0].sentiment.score > 0 > sentences[1].sentiment.score
    assert sentences[2].sentiment.magnitude == 0


def test_language_given_is_honoured_and_returned(client):
    response = client.analyze_sentiment(document=document("Great job!", language="en-US"))
    assert response.language == "en-US"


def test_v2_sentiment(client_v2):
    response = client_v2.analyze_sentiment(
        document=language_v2.Document(
            content="This is excellent work.", type_=language_v2.Document.Type.PLAIN_TEXT
        )
    )
    assert response.document_sentiment.score > 0
    assert response.language_code == "en"
    assert response.language_supported
    assert response.sentences[0].text.content == "This is excellent work."


def test_html_documents_keep_offsets_into_the_html(client):
    html = "<p>I <b>love</b> Paris.</p>"
    response = client.analyze_entities(
        document=language_v1.Document(content=html, type_=language_v1.Document.Type.HTML),
        encoding_type=language_v1.EncodingType.UTF8,
    )
    paris = next(e for e in response.entities if e.name == "Paris")
    assert paris.mentions[0].text.begin_offset == html.index("Paris")
