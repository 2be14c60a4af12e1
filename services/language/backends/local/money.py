"""Amounts of money (Google's PRICE, `metadata.currency` ISO 4217 and `metadata.value`), and
currency codes that stand alone. Currency data comes from Babel (CLDR): the codes in use
today, their English symbols and names. Pure, no I/O beyond Babel's bundled data.

An amount is a number (see `numbers`) with a currency right before or after it:
- a symbol: "$", "€", "£", "¥", "₹", "CA$", "US$", ... (CLDR's English symbols; "$" is USD);
- an ISO code in capitals: "EUR", "USD", "CHF", ... (not the codes that are English words,
  such as ALL or TOP: "TOP 10" is no price);
- a currency name: "euros", "US dollars", "Japanese yen", and the bare "dollar(s)" (USD),
  "euro(s)", "yen", "rupee(s)" (INR). Bare "pound(s)" is not taken: it is also a weight.
After an amount, "k", "m", "bn" and the written scales multiply the value.
"""

from __future__ import annotations

import datetime
import functools
import re
from typing import NamedTuple

from services.language.backends.local import numbers

# Codes that are also English words: alone, they are words, not currencies.
_WORD_CODES = frozenset({"ALL", "TOP", "CUP", "MAD", "PEN", "SOS", "BOB", "GEL"})
_BARE_NAMES = {
    "dollar": "USD",
    "dollars": "USD",
    "euro": "EUR",
    "euros": "EUR",
    "yen": "JPY",
    "rupee": "INR",
    "rupees": "INR",
    "pounds sterling": "GBP",
    "pound sterling": "GBP",
}
_SCALES = r"thousand|million|billion|trillion|bn|mn|k|m"


class Price(NamedTuple):
    start: int
    end: int
    currency: str
    value: str
    amount: tuple[int, int]  # the number's own span (it is a NUMBER entity too)


@functools.cache
def codes() -> frozenset[str]:
    """ISO 4217 codes legal tender somewhere today (CLDR)."""
    from babel import Locale
    from babel.numbers import get_territory_currencies

    today = datetime.date.today()
    found: set[str] = set()
    for territory in Locale("en").territories:
        if territory.isalpha():
            found.update(get_territory_currencies(territory, today, tender=True))
    return frozenset(found)


@functools.cache
def _symbols() -> dict[str, str]:
    """Currency symbols and names (lower case) -> ISO code, from CLDR's English data."""
    from babel.numbers import get_currency_name, get_currency_symbol

    table: dict[str, str] = {}
    for code in sorted(codes()):
        symbol = get_currency_symbol(code, "en")
        if symbol != code and not symbol.isalpha():
            table.setdefault(symbol, code)
        for count in (1, 2):
            table.setdefault(get_currency_name(code, count, "en").lower(), code)
    table.update({"US$": "USD", "C$": "CAD", "$": "USD", "¥": "JPY", "£": "GBP", "€": "EUR"})
    table.update(_BARE_NAMES)
    return table


@functools.cache
def _pattern() -> re.Pattern[str]:
    table = _symbols()

    def is_name(written: str) -> bool:
        return written.replace(" ", "").replace("-", "").isalpha()

    symbols = sorted((s for s in table if not is_name(s)), key=len, reverse=True)
    names = sorted((s for s in table if is_name(s)), key=len, reverse=True)
    symbol = "|".join(re.escape(s) for s in symbols)
    code = r"\b(?:" + "|".join(sorted(codes() - _WORD_CODES)) + r")\b"
    name = r"\b(?:" + "|".join(re.escape(n) for n in names) + r")\b"
    digits = numbers.MONEY_DIGITS
    # Python's re has no repeated group names: the two orders number theirs 1 and 2.
    before = (
        rf"(?P<currency1>{symbol}|{code}(?=\s?\d))\s?(?P<digits1>{digits})"
        rf"(?:\s*(?P<scale1>{_SCALES})\b)?"
    )
    after = (
        rf"(?P<digits2>{digits})(?:\s*(?P<scale2>{_SCALES})\b)?"
        rf"\s?(?P<currency2>{symbol}|{code}|(?i:{name}))"
    )
    return re.compile(rf"(?<![\w.,]){before}|(?<![\w.,$€£¥]){after}")


def find(text: str) -> list[Price]:
    found = []
    for match in _pattern().finditer(text):
        n = "1" if match.group("digits1") else "2"
        currency = currency_code(match.group("currency" + n))
        value = numbers.digits_value(match.group("digits" + n))
        if currency is None or value is None:
            continue
        scale = match.group("scale" + n)
        amount_end = match.end("scale" + n) if scale else match.end("digits" + n)
        found.append(
            Price(
                match.start(),
                match.end(),
                currency,
                numbers.scaled(value, scale),
                (match.start("digits" + n), amount_end),
            )
        )
    return found


def currency_code(written: str | None) -> str | None:
    """The ISO code of a symbol, code or name as written; None when it is none."""
    if not written:
        return None
    if written in codes():
        return written
    table = _symbols()
    return table.get(written) or table.get(written.lower())


def is_code_alone(text: str) -> bool:
    """`text` is a currency code on its own ("EUR"), not an English word ("ALL")."""
    return text in codes() and text not in _WORD_CODES


def value_of(text: str) -> dict[str, str]:
    """PRICE metadata of an amount found by another means (spaCy's MONEY): what it gives."""
    for price in find(text):
        return {"currency": price.currency, "value": price.value}
    number = numbers.find(text)
    return {"value": number[0].value} if number else {}
