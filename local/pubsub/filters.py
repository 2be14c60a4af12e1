"""Subscription filters in Google's filter language: a small parser and evaluator, pure.

Grammar (cloud.google.com/pubsub/docs/subscription-message-filter)::

    filter     := expression            (at most 256 bytes; empty means "no filter")
    expression := term ( ("AND" term)* | ("OR" term)* )
    term       := "NOT" term | "-" term | "(" expression ")" | predicate
    predicate  := "attributes" ":" key                       has the key
                | "attributes" "." key "=" string            value equals
                | "attributes" "." key "!=" string           value differs (or key absent)
                | "hasPrefix" "(" "attributes" "." key "," string ")"
    key        := [A-Za-z0-9_-]+ | string
    string     := '"' characters with \\ escapes '"'

Google's rules kept here: keywords are upper case; AND and OR cannot be mixed at one level
without parentheses (``a AND b OR c`` is rejected); values are string literals.

``attributes.k != "v"`` matches every message that does not have ``k`` equal to ``v``,
messages without ``k`` included: Google's filtering table lists ``attributes.name != "com"``
as "messages without the name attribute and the value of com", and Google's own fake
(google-cloud-go's ``pstest``) evaluates it as ``NOT (has k AND k = v)``.

Approximations, said plainly: string literals take the C-style escapes (``\\n \\t \\\\ \\"
\\xHH \\uHHHH \\UHHHHHHHH`` and octal); single quotes are not accepted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

MAX_FILTER_BYTES = 256

Predicate = Callable[[Mapping[str, str]], bool]


class FilterError(ValueError):
    """The filter text is not valid; the message says where and why."""


@dataclass(frozen=True)
class Token:
    kind: str  # "word", "string", or the punctuation itself: ( ) : . = != , -
    text: str
    pos: int


_WORD = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_\-]*")
_SIMPLE_ESCAPES = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "v": "\v",
    "\\": "\\",
    '"': '"',
    "'": "'",
    "?": "?",
    "`": "`",
}


def _read_string(text: str, start: int) -> tuple[str, int]:
    """Reads a double-quoted literal starting at ``text[start] == '"'``; returns (value, end)."""
    out: list[str] = []
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == '"':
            return "".join(out), i + 1
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        if i + 1 >= len(text):
            break
        esc = text[i + 1]
        if esc in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[esc])
            i += 2
        elif esc in "xuU":
            width = {"x": 2, "u": 4, "U": 8}[esc]
            digits = text[i + 2 : i + 2 + width]
            if len(digits) != width or not all(c in "0123456789abcdefABCDEF" for c in digits):
                raise FilterError(f"bad \\{esc} escape at position {i}")
            out.append(chr(int(digits, 16)))
            i += 2 + width
        elif esc in "01234567":
            digits = text[i + 1 : i + 4]
            if len(digits) != 3 or not all(c in "01234567" for c in digits):
                raise FilterError(f"bad octal escape at position {i}")
            out.append(chr(int(digits, 8)))
            i += 4
        else:
            raise FilterError(f"unknown escape \\{esc} at position {i}")
    raise FilterError(f"unterminated string starting at position {start}")


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch == '"':
            value, end = _read_string(text, i)
            tokens.append(Token("string", value, i))
            i = end
        elif text.startswith("!=", i):
            tokens.append(Token("!=", "!=", i))
            i += 2
        elif ch in "():.=,-":
            tokens.append(Token(ch, ch, i))
            i += 1
        else:
            match = _WORD.match(text, i)
            if not match:
                raise FilterError(f"unexpected character {ch!r} at position {i}")
            tokens.append(Token("word", match.group(), i))
            i = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.i = 0

    def peek(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, kind: str, text: str | None = None) -> Token:
        tok = self.peek()
        if tok is None or tok.kind != kind or (text is not None and tok.text != text):
            want = text or kind
            where = f"at position {tok.pos} (found {tok.text!r})" if tok else "at the end"
            raise FilterError(f"expected {want!r} {where}")
        self.i += 1
        return tok

    def expression(self) -> Predicate:
        terms = [self.term()]
        op = None
        while (tok := self.peek()) is not None and tok.kind == "word" and tok.text in ("AND", "OR"):
            if op is not None and tok.text != op:
                raise FilterError(
                    f"AND and OR cannot be mixed without parentheses (position {tok.pos})"
                )
            op = tok.text
            self.i += 1
            terms.append(self.term())
        if len(terms) == 1:
            return terms[0]
        parts = tuple(terms)
        if op == "AND":
            return lambda attrs: all(p(attrs) for p in parts)
        return lambda attrs: any(p(attrs) for p in parts)

    def term(self) -> Predicate:
        tok = self.peek()
        if tok is None:
            raise FilterError("expected a condition at the end")
        if tok.kind == "-" or (tok.kind == "word" and tok.text == "NOT"):
            self.i += 1
            inner = self.term()
            return lambda attrs: not inner(attrs)
        if tok.kind == "(":
            self.i += 1
            inner = self.expression()
            self.take(")")
            return inner
        if tok.kind == "word" and tok.text == "hasPrefix":
            self.i += 1
            self.take("(")
            self.take("word", "attributes")
            self.take(".")
            key = self.key()
            self.take(",")
            prefix = self.take("string").text
            self.take(")")
            return lambda attrs: key in attrs and attrs[key].startswith(prefix)
        if tok.kind == "word" and tok.text == "attributes":
            self.i += 1
            nxt = self.peek()
            if nxt is not None and nxt.kind == ":":
                self.i += 1
                key = self.key()
                return lambda attrs: key in attrs
            self.take(".")
            key = self.key()
            op = self.peek()
            if op is None or op.kind not in ("=", "!="):
                raise FilterError(f"expected '=' or '!=' after attributes.{key}")
            self.i += 1
            value = self.take("string").text
            if op.kind == "=":
                return lambda attrs: attrs.get(key) == value
            return lambda attrs: attrs.get(key) != value
        raise FilterError(f"unexpected {tok.text!r} at position {tok.pos}")

    def key(self) -> str:
        tok = self.peek()
        if tok is not None and tok.kind in ("word", "string"):
            self.i += 1
            if not tok.text:
                raise FilterError(f"empty attribute key at position {tok.pos}")
            return tok.text
        raise FilterError("expected an attribute key")


def parse(text: str) -> Predicate:
    """Compiles ``text`` into a predicate over a message's attributes; FilterError if invalid."""
    if len(text.encode("utf-8")) > MAX_FILTER_BYTES:
        raise FilterError(f"filter is longer than {MAX_FILTER_BYTES} bytes")
    if not text.strip():
        return lambda attrs: True
    parser = _Parser(text)
    predicate = parser.expression()
    tok = parser.peek()
    if tok is not None:
        raise FilterError(f"unexpected {tok.text!r} at position {tok.pos}")
    return predicate
