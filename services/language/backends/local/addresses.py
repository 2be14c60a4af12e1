"""Street addresses (Google's ADDRESS) by pattern, with the parts the text writes.

An address here is a house number and a street name ending in a street type (Street, Avenue,
Road, Parkway, Terrace, ...), optionally followed by a direction (NW), a unit (Suite 200), a
locality, a US state code and ZIP code or a UK postcode, and a country. Metadata:
`street_number`, `street_name` (with its type, as written: "Amphitheatre Parkway"),
`locality`, `broad_region` (the state code as written), `postal_code` and `country` (ISO 3166
code of an English country name, CLDR's list, or "UK"/"USA"). Google fills in what it can
geocode (a full state name, the country of a US address); offline, only what is written.

Not found: addresses without a house number, with the number after the street ("Unter den
Linden 77"), or without a street-type word; post-office boxes.
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

_STREET_TYPES = (
    r"Street|St\.?|Avenue|Ave\.?|Road|Rd\.?|Boulevard|Blvd\.?|Parkway|Pkwy\.?|Lane|Ln\.?|"
    r"Drive|Dr\.?|Way|Court|Ct\.?|Place|Pl\.?|Square|Sq\.?|Terrace|Highway|Hwy\.?|Row|"
    r"Crescent|Close|Gardens|Alley|Plaza"
)
_WORD = r"(?:[A-Z][\w'-]*|\d+(?:st|nd|rd|th))"
_UK_POSTCODE = r"[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2}"
_US_ZIP = r"\d{5}(?:-\d{4})?"
_LOCALITY = r"[A-Z][a-z]+(?:[ -][A-Z][a-z]+){0,2}"


class Address(NamedTuple):
    start: int
    end: int
    metadata: dict[str, str]


@functools.cache
def _countries() -> dict[str, str]:
    """English country names -> ISO 3166 code (CLDR), plus common short forms."""
    from babel import Locale

    names = {name: code for code, name in Locale("en").territories.items() if code.isalpha()}
    names.update({"UK": "GB", "U.K.": "GB", "USA": "US", "U.S.": "US", "U.S.A.": "US"})
    return names


@functools.cache
def _pattern() -> re.Pattern[str]:
    country = "|".join(re.escape(n) for n in sorted(_countries(), key=len, reverse=True))
    return re.compile(
        r"(?<![\w,])(?P<street_number>\d{1,5}[A-Z]?)\s+"
        rf"(?P<street_name>(?:{_WORD}\s+){{1,4}}(?:{_STREET_TYPES})(?!\w)"
        r"(?:\s+(?:NW|NE|SW|SE|N|S|E|W)\.?(?!\w))?)"
        r"(?:,?\s+(?:Suite|Ste\.?|Apt\.?|Unit|Floor|#)\s*\w+)?"
        rf"(?:,\s*(?P<locality>{_LOCALITY}))?"
        rf"(?:,?\s+(?P<uk_postcode>{_UK_POSTCODE})(?!\w)"
        rf"|(?:,\s*|\s+)(?P<broad_region>[A-Z]{{2}})(?!\w)(?:\s+(?P<us_zip>{_US_ZIP}))?"
        rf"|,?\s+(?P<zip>{_US_ZIP}))?"
        rf"(?:,\s*(?P<country>{country})(?!\w))?"
    )


def find(text: str) -> list[Address]:
    found = []
    for match in _pattern().finditer(text):
        parts = match.groupdict()
        metadata = {
            "street_number": parts["street_number"],
            "street_name": " ".join(parts["street_name"].split()),
        }
        for key in ("locality", "broad_region"):
            if parts[key]:
                metadata[key] = parts[key]
        postal = parts["us_zip"] or parts["uk_postcode"] or parts["zip"]
        if postal:
            metadata["postal_code"] = postal
        if parts["country"]:
            metadata["country"] = _countries()[parts["country"]]
        found.append(Address(match.start(), match.end(), metadata))
    return found
