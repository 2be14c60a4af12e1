"""`beginOffset` as Google defines it: the position in code units of the request's
`encodingType` (language/v1/language_service.proto, `EncodingType`):

- UTF8: bytes of the UTF-8 encoding;
- UTF16: 16-bit code units (a character outside the BMP counts 2), as Java and JavaScript count;
- UTF32: code points, as Python counts;
- NONE (also the default): no offsets; every `beginOffset` is -1.
"""

from __future__ import annotations

import itertools

from shared.gapictypes import message_types

language_v1 = message_types("google.cloud.language_v1")

Encoding = language_v1.EncodingType


class OffsetMap:
    """Maps a Python string index (code points) to a `beginOffset` in one encoding."""

    def __init__(self, text: str, encoding: int) -> None:
        self.encoding = Encoding(encoding)
        self._prefix: list[int] | None = None
        if self.encoding in (Encoding.UTF8, Encoding.UTF16) and not text.isascii():
            width = _utf8_width if self.encoding == Encoding.UTF8 else _utf16_width
            self._prefix = [0, *itertools.accumulate(width(ch) for ch in text)]

    def __call__(self, index: int) -> int:
        if self.encoding == Encoding.NONE:
            return -1
        if self._prefix is None:  # UTF32, or ASCII text in any encoding
            return index
        return self._prefix[index]


def _utf8_width(ch: str) -> int:
    code = ord(ch)
    return 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4


def _utf16_width(ch: str) -> int:
    return 2 if ord(ch) >= 0x10000 else 1
