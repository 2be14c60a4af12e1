"""The pure finders behind the typed entities (no service, no spaCy): numbers, money, dates,
phone numbers and addresses, each on the forms its docstring promises and on near misses."""

from __future__ import annotations

import pytest

from services.language.backends.local import addresses, dates, money, numbers, phones


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7,000,000 visitors", [("7,000,000", "7000000")]),
        ("1.250,00 in total", [("1.250,00", "1250.00")]),
        ("2.4 million users", [("2.4 million", "2400000")]),
        ("signed 2021-06-30", [("2021", "2021"), ("06", "6"), ("30", "30")]),
        ("the Galaxy S24", [("24", "24")]),
        ("1, 2 and 3", [("1", "1"), ("2", "2"), ("3", "3")]),
        ("12,5 kg", [("12", "12")]),  # a decimal comma only in money
    ],
)
def test_numbers_and_their_values(text, expected):
    assert [(text[n.start : n.end], n.value) for n in numbers.find(text)] == expected


@pytest.mark.parametrize(
    ("words", "value"),
    [(["seven"], "7"), (["twenty-one"], "21"), (["three", "hundred"], "300"),
     (["two", "million"], "2000000"), (["several"], None)],
)  # fmt: skip
def test_numbers_in_words(words, value):
    assert numbers.words_value(words) == value


@pytest.mark.parametrize(
    ("text", "price", "currency", "value"),
    [
        ("for $7.5 billion", "$7.5 billion", "USD", "7500000000"),
        ("totals 1,250.00 EUR,", "1,250.00 EUR", "EUR", "1250.00"),
        ("costs 1.250,00 €", "1.250,00 €", "EUR", "1250.00"),
        ("R$ 50,00 each", "R$ 50,00", "BRL", "50.00"),
        ("USD 2.4 million", "USD 2.4 million", "USD", "2400000"),
        ("15.49 dollars", "15.49 dollars", "USD", "15.49"),
        ("40 Swiss francs", "40 Swiss francs", "CHF", "40"),
        ("fares from A$30", "A$30", "AUD", "30"),
        ("¥12,000 a night", "¥12,000", "JPY", "12000"),
        ("TRY 500 fee", "TRY 500", "TRY", "500"),
    ],
)
def test_money_with_its_currency(text, price, currency, value):
    [found] = money.find(text)
    assert (text[found.start : found.end], found.currency, found.value) == (price, currency, value)


@pytest.mark.parametrize("text", ["TOP 10 songs", "it weighs 5 pounds", "pay in EUR", "3 kids"])
def test_no_money_without_a_currency_next_to_a_number(text):
    assert money.find(text) == []


def test_currency_codes_alone_but_not_english_words():
    assert money.is_code_alone("EUR")
    assert money.is_code_alone("GBP")
    assert not money.is_code_alone("ALL")
    assert not money.is_code_alone("ABC")


@pytest.mark.parametrize(
    ("text", "date", "metadata"),
    [
        ("on September 12, 2023.", "September 12, 2023",
         {"year": "2023", "month": "9", "day": "12"}),
        ("due 15 March 2024", "15 March 2024", {"year": "2024", "month": "3", "day": "15"}),
        ("the 5th of May", "5th of May", {"month": "5", "day": "5"}),
        ("since March 2019", "March 2019", {"year": "2019", "month": "3"}),
        ("filed 2019-11-04", "2019-11-04", {"year": "2019", "month": "11", "day": "4"}),
        ("on 6/30/2021", "6/30/2021", {"year": "2021", "month": "6", "day": "30"}),
        ("on 30/6/2021", "30/6/2021", {"year": "2021", "month": "6", "day": "30"}),
        ("see you Friday", "Friday", {}),
    ],
)  # fmt: skip
def test_written_dates(text, date, metadata):
    [found] = dates.find(text)
    assert (text[found.start : found.end], found.metadata) == (date, metadata)


def test_date_expressions_give_their_core_or_nothing():
    text = "in 2018, every July, for four days, on 2020-13-45"
    spans = [(0, 7), (9, 19), (21, 34)]
    found = [(text[d.start : d.end], d.metadata) for d in dates.find(text, spans)]
    assert found == [("2018", {"year": "2018"}), ("July", {"month": "7"})]
    assert dates.find("May I come? I march on.") == []


@pytest.mark.parametrize(
    ("text", "metadata"),
    [
        ("+1 650-253-0000",
         {"number": "(650) 253-0000", "national_prefix": "1", "area_code": "650"}),
        ("+44 20 7946 0958",
         {"number": "020 7946 0958", "national_prefix": "44", "area_code": "20"}),
        ("(415) 555-0132 ext. 204",
         {"number": "(415) 555-0132", "area_code": "415", "extension": "204"}),
    ],
)  # fmt: skip
def test_phone_numbers_and_their_parts(text, metadata):
    [found] = phones.find(f"Call {text} now.")
    assert found.metadata == metadata


def test_a_region_reads_numbers_without_a_country_code():
    [found] = phones.find("Ring 020 7946 0958 today.", region="GB")
    assert found.metadata["number"] == "020 7946 0958"
    assert phones.find("Invoice 4471 is due on 2021-06-30.") == []


@pytest.mark.parametrize(
    ("text", "metadata"),
    [
        ("1600 Amphitheatre Parkway, Mountain View, CA 94043",
         {"street_number": "1600", "street_name": "Amphitheatre Parkway",
          "locality": "Mountain View", "broad_region": "CA", "postal_code": "94043"}),
        ("221 Baker Street, London NW1 6XE, United Kingdom",
         {"street_number": "221", "street_name": "Baker Street", "locality": "London",
          "postal_code": "NW1 6XE", "country": "GB"}),
        ("1600 Pennsylvania Ave NW, Washington, DC",
         {"street_number": "1600", "street_name": "Pennsylvania Ave NW",
          "locality": "Washington", "broad_region": "DC"}),
    ],
)  # fmt: skip
def test_addresses_and_their_parts(text, metadata):
    [found] = addresses.find(f"Visit {text}.")
    assert found.metadata == metadata
