"""analyzeEntities and analyzeEntitySentiment through the official client: each main type
found, offsets exact in every encoding, salience a distribution, entity F1 on the test set."""

from __future__ import annotations

import pytest
from google.cloud import language_v1

from tests.services.language.conftest import document
from tests.services.language.corpus import TYPE_CASES

Encoding = language_v1.EncodingType
# Characters that take 2 bytes in UTF-8, 1 or 2 units in UTF-16 (the emoji is outside the BMP),
# so a wrong unit shifts every offset after them.
PREFIX = "Café 😀 notes: "


def expected_offset(text: str, index: int, encoding: Encoding) -> int:
    head = text[:index]
    if encoding == Encoding.UTF8:
        return len(head.encode("utf-8"))
    if encoding == Encoding.UTF16:
        return len(head.encode("utf-16-le")) // 2
    if encoding == Encoding.UTF32:
        return len(head)
    return -1


@pytest.mark.parametrize(
    ("sentence", "mention", "kind"), TYPE_CASES, ids=[c[2] for c in TYPE_CASES]
)
@pytest.mark.parametrize("encoding", [Encoding.UTF8, Encoding.UTF16])
def test_each_type_is_found_with_exact_offsets(client, sentence, mention, kind, encoding):
    text = PREFIX + sentence
    response = client.analyze_entities(document=document(text), encoding_type=encoding)
    found = [
        (entity, m)
        for entity in response.entities
        for m in entity.mentions
        if m.text.content == mention
    ]
    assert found, [(e.name, e.type_.name) for e in response.entities]
    entity, m = found[0]
    assert entity.type_.name == kind
    assert m.text.begin_offset == expected_offset(text, text.index(mention), encoding)
    assert response.language == "en"


@pytest.mark.parametrize("encoding", [Encoding.UTF32, Encoding.NONE])
def test_utf32_counts_code_points_and_none_gives_minus_one(client, encoding):
    text = PREFIX + "Angela Merkel spoke."
    response = client.analyze_entities(document=document(text), encoding_type=encoding)
    person = next(e for e in response.entities if e.type_.name == "PERSON")
    assert person.mentions[0].text.begin_offset == expected_offset(text, len(PREFIX), encoding)


def test_mentions_are_grouped_and_typed(client):
    text = "Barack Obama was born in Hawaii. Obama later moved to Chicago."
    response = client.analyze_entities(document=document(text), encoding_type=Encoding.UTF8)
    obama = next(e for e in response.entities if e.name == "Barack Obama")
    assert [m.text.content for m in obama.mentions] == ["Barack Obama", "Obama"]
    assert {m.type_.name for m in obama.mentions} == {"PROPER"}
    assert response.entities[0].name == "Barack Obama"  # most salient first
    assert sum(e.salience for e in response.entities) == pytest.approx(1.0, abs=0.01)
    assert all(0 <= e.salience <= 1 for e in response.entities)


def test_metadata_only_where_the_text_gives_it(client):
    text = "On July 4, 2015 we paid $20 for 3 tickets."
    response = client.analyze_entities(document=document(text))
    by_name = {(e.name, e.type_.name): dict(e.metadata) for e in response.entities}
    assert by_name[("July 4, 2015", "DATE")] == {"year": "2015", "month": "7", "day": "4"}
    assert by_name[("$20", "PRICE")] == {"value": "20", "currency": "USD"}
    # Every number is a NUMBER of its own too, as Google lists them.
    assert {name for name, kind in by_name if kind == "NUMBER"} == {"4", "2015", "20", "3"}
    assert by_name[("3", "NUMBER")] == {"value": "3"}
    assert all("mid" not in e.metadata for e in response.entities)


def test_entity_sentiment_follows_the_mentions_sentences(client):
    text = "Paris is a wonderful, beautiful city. London was awful and I hated it."
    response = client.analyze_entity_sentiment(document=document(text))
    by_name = {e.name: e for e in response.entities}
    assert by_name["Paris"].sentiment.score > 0.3
    assert by_name["London"].sentiment.score < -0.3
    assert by_name["London"].mentions[0].sentiment.score < 0
    assert by_name["Paris"].sentiment.magnitude > 0


def test_v2_entities_have_no_salience_and_say_the_language(client_v2):
    from google.cloud import language_v2

    response = client_v2.analyze_entities(
        document=language_v2.Document(
            content="Angela Merkel visited Tokyo.", type_=language_v2.Document.Type.PLAIN_TEXT
        ),
        encoding_type=language_v2.EncodingType.UTF8,
    )
    names = {e.name: e.type_.name for e in response.entities}
    assert names["Angela Merkel"] == "PERSON"
    assert names["Tokyo"] == "LOCATION"
    assert response.language_code == "en"
    assert response.language_supported
