"""What Google does to a transcript after recognition, done to Whisper's: punctuation kept only
when asked for, profanity masked as Google masks it ("f***"), language codes mapped."""

from __future__ import annotations

import re

# Whisper writes punctuation and casing always; without `enableAutomaticPunctuation` Google
# gives none. Apostrophes and hyphens inside words stay (they are spelling, not punctuation).
_QUOTES = "'\u2018\u2019"
_MARKS = '.,!?;:"\u201c\u201d\u00ab\u00bb\u00bf\u00a1\u2026\u3002\uff0c\uff01\uff1f\u3001'
_PUNCTUATION = re.compile(
    f"[{re.escape(_MARKS)}]|(?<!\\w)[{_QUOTES}]|[{_QUOTES}](?!\\w)|(?<!\\w)-|-(?!\\w)"
)
_SPACES = re.compile(r"\s{2,}")

# Google masks every letter but the first with '*'. A short list of English words nobody
# disputes; Google's own list is not published.
_PROFANE = frozenset(
    ("fuck", "fucking", "fucked", "fucker", "shit", "shitty", "bitch", "bastard", "asshole",
     "cunt", "dick", "motherfucker", "bullshit", "piss", "wanker", "bollocks")
)  # fmt: skip
_WORD = re.compile(r"[A-Za-z]+")

# BCP-47 primary subtags Whisper spells differently.
_WHISPER_CODES = {"cmn": "zh", "yue": "yue", "iw": "he", "fil": "tl", "nb": "no", "jv": "jw"}


def unpunctuate(text: str) -> str:
    return _SPACES.sub(" ", _PUNCTUATION.sub("", text))


def mask_profanity(text: str) -> str:
    def mask(match: re.Match[str]) -> str:
        word = match.group(0)
        return word[0] + "*" * (len(word) - 1) if word.lower() in _PROFANE else word

    return _WORD.sub(mask, text)


def whisper_language(language_code: str) -> str:
    """'en-US' -> 'en', 'cmn-Hans-CN' -> 'zh'."""
    primary = language_code.split("-")[0].split("_")[0].lower()
    return _WHISPER_CODES.get(primary, primary)
