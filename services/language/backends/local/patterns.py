"""Regular expressions for what spaCy's English model does not name: phone numbers and street
addresses, and the values Google puts in an entity's `metadata` (DATE year/month/day, NUMBER
value, PRICE value/currency). Pure functions, no I/O.

Approximations: phone numbers need an area code or a country code (7-digit local numbers are
missed); addresses need a house number and a street-type word (Street, Avenue, Road, ...);
dates give metadata only when written with digits or a month name.
"""

from __future__ import annotations

import re

PHONE = re.compile(
    r"(?<![\w+])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,4}\)[\s.-]?|\d{2,4}[\s.-])\d{3,4}[\s.-]\d{3,4}(?!\w)"
)
_STREET_TYPES = (
    r"Street|St\.?|Avenue|Ave\.?|Road|Rd\.?|Boulevard|Blvd\.?|Parkway|Pkwy\.?|Lane|Ln\.?|"
    r"Drive|Dr\.?|Way|Court|Ct\.?|Place|Pl\.?|Square|Sq\.?|Terrace|Highway|Hwy\.?"
)
ADDRESS = re.compile(
    r"\b(?P<street_number>\d{1,6})\s+(?P<street_name>(?:[A-Z][\w'-]*\s+){1,4}(?:"
    + _STREET_TYPES
    + r"))(?!\w)(?:,\s*(?P<locality>(?:[A-Z][a-z]+\s?){1,3}))?"
    r"(?:,\s*(?P<broad_region>[A-Z]{2})(?:\s+(?P<postal_code>\d{5}(?:-\d{4})?))?)?"
)

MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_DATES = [
    re.compile(r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})"),
    re.compile(_MONTH + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(?P<year>\d{4}))?", re.I),
    re.compile(
        r"(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH + r"(?:,?\s+(?P<year>\d{4}))?",
        re.I,
    ),
    re.compile(_MONTH + r",?\s+(?P<year>\d{4})", re.I),
    re.compile(r"^(?:in\s+)?(?P<year>1\d{3}|20\d{2})$", re.I),
]
_NUMBER = re.compile(r"-?\d+(?:,\d{3})*(?:\.\d+)?|-?\.\d+")
_NUMBER_WORDS = "zero one two three four five six seven eight nine ten eleven twelve"
_WORDS = {word: index for index, word in enumerate(_NUMBER_WORDS.split(" "))}
CURRENCY_SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY"}
_CURRENCY_WORDS = {
    "dollar": "USD",
    "usd": "USD",
    "euro": "EUR",
    "eur": "EUR",
    "pound": "GBP",
    "gbp": "GBP",
    "yen": "JPY",
    "jpy": "JPY",
}


def date_metadata(text: str) -> dict[str, str]:
    for pattern in _DATES:
        match = pattern.search(text.strip())
        if match is None:
            continue
        found = match.groupdict()
        month = found.get("month")
        if month and not month.isdigit():
            month = str(MONTHS[month.lower().rstrip(".")])
        values = {"year": found.get("year"), "month": month, "day": found.get("day")}
        return {key: str(int(value)) for key, value in values.items() if value}
    return {}


def number_value(text: str) -> str | None:
    match = _NUMBER.search(text)
    if match:
        return match.group(0).replace(",", "")
    word = text.strip().lower()
    return str(_WORDS[word]) if word in _WORDS else None


def price_metadata(text: str) -> dict[str, str]:
    metadata = {}
    value = number_value(text)
    if value is not None:
        metadata["value"] = value
    currency = next((code for sym, code in CURRENCY_SYMBOLS.items() if sym in text), None)
    if currency is None:
        lowered = text.lower()
        currency = next((code for word, code in _CURRENCY_WORDS.items() if word in lowered), None)
    if currency:
        metadata["currency"] = currency
    return metadata


def phone_metadata(text: str) -> dict[str, str]:
    digits = re.sub(r"[^\d+]", "", text)
    return {"number": digits}


def address_metadata(match: re.Match[str]) -> dict[str, str]:
    return {key: value.strip() for key, value in match.groupdict().items() if value}
