"""The entity test set (tests/services/language/corpus.py) through the official client: entity
F1 with the default model, on the part tuned on and on the held-out part; type accuracy and
metadata per type; and the issue's invoice, typed as Google types it."""

from __future__ import annotations

import pytest
from google.cloud import language_v1

from tests.services.language.conftest import document
from tests.services.language.corpus import (
    ENTITY_SET,
    HELD_OUT,
    TUNE,
    Score,
    found_in,
    score,
)

Type = language_v1.Entity.Type
# What patterns and libraries find (no statistical model): every one typed right, with its
# metadata, on the whole set.
PATTERN_TYPES = ("ADDRESS", "DATE", "NUMBER", "PHONE_NUMBER", "PRICE")
NAMED_TYPES = ("PERSON", "LOCATION", "ORGANIZATION", "EVENT", "WORK_OF_ART", "CONSUMER_GOOD")


@pytest.fixture(scope="module")
def predicted(client) -> dict[str, list]:
    found = {}
    for text, _ in ENTITY_SET:
        response = client.analyze_entities(
            document=document(text), encoding_type=language_v1.EncodingType.UTF32
        )
        found[text] = found_in(response)
    return found


def scored(cases, predicted) -> Score:
    return score(cases, [predicted[text] for text, _ in cases])


def test_the_set_covers_every_google_type():
    kinds = {gold.type for _, golds in ENTITY_SET for gold in golds}
    assert kinds >= {*PATTERN_TYPES, *NAMED_TYPES, "OTHER"}
    assert len(ENTITY_SET) >= 60
    assert not {text for text, _ in TUNE} & {text for text, _ in HELD_OUT}


@pytest.mark.parametrize(
    ("part", "bar"),
    # Measured: 0.964 tuned on, 0.923 held out (never tuned on), 0.950 in all.
    [("all", 0.93), ("held out", 0.90)],
)
def test_entity_f1_with_the_default_model(predicted, part, bar):
    result = scored(ENTITY_SET if part == "all" else HELD_OUT, predicted)
    assert result.f1 >= bar, "\n".join(result.errors)


def test_pattern_types_are_all_typed_right_with_their_metadata(predicted):
    result = scored(ENTITY_SET, predicted)
    for kind in PATTERN_TYPES:
        spans, right = result.typed[kind]
        assert right == spans > 0, kind
        checked, exact = result.metadata[kind]
        assert exact == checked > 0, (kind, [e for e in result.errors if "metadata" in e])


def test_named_types_are_mostly_typed_right(predicted):
    result = scored(ENTITY_SET, predicted)
    spans = sum(result.typed[kind][0] for kind in NAMED_TYPES)
    right = sum(result.typed[kind][1] for kind in NAMED_TYPES)
    assert right / spans >= 0.9
    assert result.type_accuracy() >= 0.95


def test_the_invoice_is_typed_as_google_types_it(client):
    text = "Invoice 4471 from Acme Corporation totals 1,250.00 EUR, due on 15 March 2024."
    response = client.analyze_entities(document=document(text))
    by_name = {e.name: e for e in response.entities}
    assert by_name["Invoice 4471"].type_ == Type.OTHER
    assert by_name["Invoice 4471"].mentions[0].type_.name == "COMMON"
    assert by_name["4471"].type_ == Type.NUMBER
    assert by_name["1,250.00 EUR"].type_ == Type.PRICE
    assert dict(by_name["1,250.00 EUR"].metadata) == {"currency": "EUR", "value": "1250.00"}
    assert "EUR" not in by_name
    assert by_name["Acme Corporation"].type_ == Type.ORGANIZATION
    assert not [
        e.name
        for e in response.entities
        if e.type_ == Type.ORGANIZATION and e.name != "Acme Corporation"
    ]


@pytest.mark.parametrize(
    ("text", "price", "metadata"),
    [
        ("It costs 1.250,00 € now.", "1.250,00 €", {"currency": "EUR", "value": "1250.00"}),
        ("We paid CHF 40 for it.", "CHF 40", {"currency": "CHF", "value": "40"}),
        ("They raised $2m last month.", "$2m", {"currency": "USD", "value": "2000000"}),
        ("It was 500 Japanese yen.", "500 Japanese yen", {"currency": "JPY", "value": "500"}),
        ("Fares start at A$30.", "A$30", {"currency": "AUD", "value": "30"}),
    ],
)
def test_money_before_or_after_with_symbol_code_or_name(client, text, price, metadata):
    response = client.analyze_entities(document=document(text))
    prices = {e.name: dict(e.metadata) for e in response.entities if e.type_ == Type.PRICE}
    assert prices == {price: metadata}


@pytest.mark.parametrize(
    "text",
    ["Pay in EUR or USD.", "The TOP 10 songs of 2024.", "The parcel weighs 5 pounds."],
)
def test_currency_words_alone_are_no_price_and_no_organisation(client, text):
    response = client.analyze_entities(document=document(text))
    kinds = {e.name: e.type_.name for e in response.entities}
    assert "PRICE" not in kinds.values()
    assert "ORGANIZATION" not in kinds.values(), kinds
