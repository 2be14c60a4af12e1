"""Numbers in text and their values, as Google puts them in NUMBER and PRICE `metadata.value`:
the number without digit grouping, with a decimal point, scale words multiplied out
("7.5 billion" -> "7500000000", "1.250,00" -> "1250.00", "seven" -> "7"). Pure, no I/O.

Decimal separators: with both "," and "." the later one is the decimal separator; a lone ","
followed by one or two digits at the end is a decimal comma; a lone separator followed by
exactly three digits groups thousands when it repeats ("7,000,000", "1.250.000") and for ","
otherwise ("12,000"); "." followed by three digits once ("2.500") is read as a decimal point,
as English writes it. A lone decimal comma ("12,5") counts only in amounts of money.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from babel.numbers import NumberFormatError, parse_decimal

SCALES = {
    "thousand": 10**3,
    "k": 10**3,
    "million": 10**6,
    "m": 10**6,
    "mn": 10**6,
    "billion": 10**9,
    "bn": 10**9,
    "trillion": 10**12,
}
# Written-out scales only: "k", "m", "bn" count only right after an amount of money.
WORD_SCALES = ("thousand", "million", "billion", "trillion")

# A number written in digits: grouped ("1,250.00", "1.250,00") or plain ("2021", "89.99").
# A plain decimal comma is only read in amounts of money ("50,00 €"): elsewhere in English,
# "1,2,3" is a list.
DIGITS = (
    r"\d{1,3}(?:,\d{3})+(?:\.\d+)?"
    r"|\d{1,3}(?:\.\d{3})+(?:,\d{1,2})?"
    r"|\d+(?:\.\d+)?"
)
MONEY_DIGITS = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+,\d{1,2}(?!\d)|" + DIGITS
_NUMBER = re.compile(
    r"(?<![\d.,])(?P<digits>" + DIGITS + r")(?![\d])"
    r"(?:\s+(?P<scale>" + "|".join(WORD_SCALES) + r")\b)?",
    re.I,
)

_UNITS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
WORDS: dict[str, int] = {word: value for value, word in enumerate(_UNITS)} | {
    word: 20 + 10 * index for index, word in enumerate(_TENS)
}


class Number(NamedTuple):
    start: int
    end: int
    value: str


def digits_value(digits: str) -> str | None:
    """The value of a number written in digits, grouping removed, "." as decimal point."""
    last_comma, last_dot = digits.rfind(","), digits.rfind(".")
    if last_comma >= 0 and last_dot >= 0:
        locale = "en" if last_dot > last_comma else "de"
    elif last_comma >= 0:
        tail = len(digits) - last_comma - 1
        locale = "de" if tail in (1, 2) else "en"
    elif digits.count(".") > 1:
        locale = "de"
    else:
        locale = "en"
    try:
        return str(parse_decimal(digits, locale=locale, strict=False))
    except NumberFormatError:
        return None


def scaled(value: str, scale: str | None) -> str:
    """`value` times the scale word ("million"), as a plain decimal string."""
    if not scale:
        return value
    try:
        result = Decimal(value) * SCALES[scale.lower()]
    except (InvalidOperation, KeyError):
        return value
    text = format(result, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def find(text: str) -> list[Number]:
    """Every number written in digits, with a written-out scale word when one follows."""
    found = []
    for match in _NUMBER.finditer(text):
        value = digits_value(match.group("digits"))
        if value is not None:
            found.append(Number(match.start(), match.end(), scaled(value, match.group("scale"))))
    return found


def words_value(words: list[str]) -> str | None:
    """The value of a number in English words ("twenty one", "three hundred", "two million");
    None when they are not one."""
    total = current = 0
    seen = False
    for raw in words:
        word = raw.lower()
        if word in ("and", "-"):
            continue
        parts = word.split("-")
        if len(parts) > 1 and all(part in WORDS for part in parts):
            current += sum(WORDS[part] for part in parts)
        elif word in WORDS:
            current += WORDS[word]
        elif word == "hundred":
            current = (current or 1) * 100
        elif word in WORD_SCALES:
            total += (current or 1) * SCALES[word]
            current = 0
        else:
            return None
        seen = True
    return str(total + current) if seen else None
