"""INVOICE_PROCESSOR: entities only from evidence (labelled fields, line-item tables), with
Google's types, anchors and normalised dates and money; the parsers alone, table-driven."""

from __future__ import annotations

import datetime

import pytest
from google.cloud import documentai_v1 as documentai

from local import document_samples as samples
from services.documentai.backends.local.entities import parse_date, parse_money
from tests.services.documentai.conftest import processor_name


def _invoice(client, content: bytes, mime: str = "application/pdf") -> documentai.Document:
    return client.process_document(
        request=documentai.ProcessRequest(
            name=processor_name("invoice"),
            raw_document=documentai.RawDocument(content=content, mime_type=mime),
        )
    ).document


@pytest.mark.parametrize("seed", [41, 42])
def test_invoice_entities_come_from_the_labelled_fields_and_the_table(client, seed):
    form = samples.invoice(seed)
    doc = _invoice(client, form.pdf)
    by_type: dict[str, list] = {}
    for entity in doc.entities:
        by_type.setdefault(entity.type_, []).append(entity)
    assert by_type["invoice_id"][0].mention_text == form.fields["Invoice number:"]
    assert by_type["purchase_order"][0].mention_text == form.fields["Order reference:"]
    assert by_type["receiver_name"][0].mention_text == form.fields["Customer:"]
    date = by_type["invoice_date"][0]
    year, month, day = (int(x) for x in form.fields["Invoice date:"].split("-"))
    assert (date.normalized_value.date_value.year, date.normalized_value.date_value.month) == (
        year,
        month,
    )
    assert date.normalized_value.date_value.day == day
    total = by_type["total_amount"][0]
    assert total.mention_text == form.table[-1][-1]
    assert total.normalized_value.money_value.units == int(form.table[-1][-1].split(".")[0])
    items = by_type["line_item"]
    assert len(items) == len(form.table) - 2
    for item, row in zip(items, form.table[1:-1], strict=True):
        properties = {p.type_: p.mention_text for p in item.properties}
        assert properties == {
            "line_item/description": row[0],
            "line_item/quantity": row[1],
            "line_item/unit_price": row[2],
            "line_item/amount": row[3],
        }
    for entity in doc.entities:
        segments = entity.text_anchor.text_segments
        if entity.type_ != "line_item":
            text = "".join(doc.text[int(s.start_index) : int(s.end_index)] for s in segments)
            assert text.strip() == entity.mention_text
        assert entity.page_anchor.page_refs[0].bounding_poly.normalized_vertices
    assert not doc.pages[0].form_fields  # specialised processors answer with entities


def test_a_page_without_labels_gives_no_entities(client):
    page = samples.two_columns(3)
    assert _invoice(client, page.pdf).entities == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-12", datetime.date(2026, 3, 12)),
        ("12 March 2026", datetime.date(2026, 3, 12)),
        ("March 12, 2026", datetime.date(2026, 3, 12)),
        ("Sept 3 2026", datetime.date(2026, 9, 3)),
        ("25/12/2026", datetime.date(2026, 12, 25)),
        ("12/25/2026", datetime.date(2026, 12, 25)),
        ("03/04/2026", None),  # March 4th or 3 April: not guessed
        ("2026-02-30", None),
        ("next Tuesday", None),
    ],
)
def test_dates_are_normalised_only_when_unambiguous(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "currency", "units", "nanos"),
    [
        ("$1,234.50", "USD", 1234, 500_000_000),
        ("1.234,50 EUR", "EUR", 1234, 500_000_000),
        ("9593.00", "", 9593, 0),
        ("£12", "GBP", 12, 0),
        ("-40.25", "", -40, -250_000_000),
    ],
)
def test_money_is_normalised(text, currency, units, nanos):
    money, _text = parse_money(text)
    assert (money.currency_code, money.units, money.nanos) == (currency, units, nanos)


@pytest.mark.parametrize("text", ["twelve", "12 apples", ""])
def test_what_is_not_money_is_not_normalised(text):
    assert parse_money(text) is None
