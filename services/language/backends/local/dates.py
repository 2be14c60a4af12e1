"""Dates (Google's DATE, `metadata` year/month/day as far as given, no leading zeros).

Found two ways. Written forms that are dates whatever surrounds them are matched in the whole
text: ISO ("2021-06-30"), numeric with slashes ("6/30/2021", month first as in US English
unless the first number cannot be a month), a month name with a day and/or a year
("September 12, 2023", "15 March 2024", "the 5th of May", "May 5th", "March 2019"), and
weekday names. Inside the date expressions spaCy finds ("in 2018", "every July", "around
1600"), the core is taken: a month name or a year. What has no such core ("last year", "four
days", "the quarter") is a duration or a relative time, not a date: no DATE (Google's dates
are calendar dates). Pure, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

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
# Capitalised month names only: "may" and "march" are English words too.
_MONTH = (
    r"(?P<month>"
    + "|".join(sorted((m.title() for m in MONTHS), key=len, reverse=True))
    + r")(?:\.(?=\s))?"
)
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>1\d{3}|20\d{2})"
WEEKDAYS = re.compile(r"\b(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day\b")
_WRITTEN = [
    re.compile(r"\b" + _YEAR + r"-(?P<month>[01]?\d)-(?P<day>[0-3]?\d)\b"),
    re.compile(r"\b(?P<first>[0-3]?\d)/(?P<second>[0-3]?\d)/" + _YEAR + r"\b"),
    re.compile(r"\b" + _MONTH + r"\s+" + _DAY + r"(?:,?\s+" + _YEAR + r")?\b"),
    re.compile(r"\b" + _DAY + r"\s+(?:of\s+)?" + _MONTH + r"(?:,?\s+" + _YEAR + r")?\b"),
    re.compile(r"\b" + _MONTH + r",?\s+" + _YEAR + r"\b"),
]
_CORES = [
    re.compile(r"\b" + _MONTH + r"\b"),
    re.compile(r"(?<![\d.,])" + _YEAR + r"(?![\d]|s\b)"),
]


class Date(NamedTuple):
    start: int
    end: int
    metadata: dict[str, str]


def find(text: str, expressions: Iterable[tuple[int, int]] = ()) -> list[Date]:
    """Dates written as such in `text`, then the cores of the date `expressions` (spans)."""
    found: list[Date] = []

    def add(start: int, end: int, values: dict[str, str | None]) -> None:
        if any(d.start < end and start < d.end for d in found):
            return
        metadata = {key: str(int(value)) for key, value in values.items() if value}
        found.append(Date(start, end, metadata))

    for pattern in _WRITTEN:
        for match in pattern.finditer(text):
            values = _values(match)
            if values is not None:
                add(match.start(), match.end(), values)
    for match in WEEKDAYS.finditer(text):
        add(match.start(), match.end(), {})
    for start, end in expressions:
        for pattern in _CORES:
            for match in pattern.finditer(text, start, end):
                add(match.start(), match.end(), _values(match) or {})
    return sorted(found)


def _values(match: re.Match[str]) -> dict[str, str | None] | None:
    groups = match.groupdict()
    if "first" in groups:  # numeric with slashes: month first unless it cannot be
        first, second = int(groups["first"]), int(groups["second"])
        month, day = (first, second) if first <= 12 else (second, first)
        groups = {"year": groups["year"], "month": str(month), "day": str(day)}
    month = groups.get("month")
    if month and not month.isdigit():
        groups["month"] = str(MONTHS[month.lower()])
    if groups.get("month") and not 1 <= int(groups["month"]) <= 12:
        return None
    if groups.get("day") and not 1 <= int(groups["day"]) <= 31:
        return None
    return {key: groups.get(key) for key in ("year", "month", "day")}
