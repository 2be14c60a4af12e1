"""Phone numbers (Google's PHONE_NUMBER) found and split with libphonenumber, Google's own
phone-number library (the `phonenumbers` port).

Found with `PhoneNumberMatcher` at its default leniency (numbers valid for their region);
numbers without a country code are read as numbers of `region` (`LANGUAGE_PHONE_REGION`,
default US). Metadata, as Google documents it:
- `number`: the number in its country's national format ("(650) 253-0000", "020 7946 0958");
- `national_prefix`: the country calling code, when the text writes it ("+44" -> "44");
- `area_code`: the geographic area code, when the number has one;
- `extension`: when the text gives one ("ext. 204").
"""

from __future__ import annotations

import copy
from typing import NamedTuple

import phonenumbers


class Phone(NamedTuple):
    start: int
    end: int
    metadata: dict[str, str]


def find(text: str, region: str = "US") -> list[Phone]:
    found = []
    for match in phonenumbers.PhoneNumberMatcher(text, region):
        found.append(Phone(match.start, match.end, metadata(match.number, match.raw_string)))
    return found


def metadata(number: phonenumbers.PhoneNumber, raw: str) -> dict[str, str]:
    bare = copy.copy(number)
    bare.extension = None
    national = str(phonenumbers.national_significant_number(number))
    result = {"number": phonenumbers.format_number(bare, phonenumbers.PhoneNumberFormat.NATIONAL)}
    if raw.lstrip().startswith(("+", "00")):
        result["national_prefix"] = str(number.country_code)
    area = phonenumbers.length_of_geographical_area_code(number)
    if area:
        result["area_code"] = national[:area]
    if number.extension:
        result["extension"] = str(number.extension)
    return result
