"""Text and HTML to Apertium's stream format and back; HTML checked for well-formedness.
Pure functions, no I/O.

Stream format (what Apertium's deformatters write): the characters `\\ [ ] ^ $ / @ < > { }`
are escaped with a backslash; anything that is not to be translated (an HTML tag, a line
break) is a "superblank" `[...]` that the pipeline carries through untouched. As Apertium's
own `apertium-destxt`/`-deshtml` do, a `.` followed by an empty superblank `[]` is inserted at
the end and before line breaks and block-level tags, to mark a sentence end for the tagger;
`reformat` takes those markers out again.

HTML: tags, comments, doctypes and the inside of `<script>`/`<style>` become superblanks, so
markup comes back exactly as written (Apertium may move an inline tag with the words it
wraps). Character references in text are decoded before translation and the translated text is
escaped again (`&`, `<`, `>`), so `&eacute;` comes back as `é`. Malformed HTML (an unclosed
`<`, an end tag with no open element, crossed or unclosed elements other than those HTML lets
go unclosed) is refused: `MarkupError`.
"""

from __future__ import annotations

import html
import re

_SPECIAL = re.compile(r"([\\\[\]^$/@<>{}])")
_BREAK = re.compile(r"\s*\n\s*|[\t\r\f\v]+| {2,}")
_MARKUP = re.compile(
    r"<!--.*?-->|<![^>]*>|<\?[^>]*>|<(script|style)\b[^>]*>.*?</\1\s*>|</?[A-Za-z][^<>]*>",
    re.I | re.S,
)
_TAG = re.compile(r"<(/?)([A-Za-z][\w:.-]*)[^>]*?(/?)>$", re.S)
_VOID = frozenset(
    [
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
        "source", "track", "wbr",
    ]
)  # fmt: skip
# Elements whose end tag HTML lets you leave out.
_OPTIONAL_END = frozenset(
    [
        "p", "li", "dt", "dd", "tr", "td", "th", "thead", "tbody", "tfoot", "option",
        "optgroup", "colgroup", "rb", "rt", "rtc", "rp", "html", "head", "body",
    ]
)  # fmt: skip
_BLOCK = frozenset(
    [
        "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "td",
        "th", "table", "title", "section", "article", "header", "footer", "blockquote", "pre",
        "hr", "dt", "dd",
    ]
)  # fmt: skip
SENTENCE_MARK = ".[]"


class MarkupError(ValueError):
    """The HTML is not well formed; the message says where."""


def escape(text: str) -> str:
    return _SPECIAL.sub(r"\\\1", text.replace("\0", ""))


def superblank(raw: str) -> str:
    return "[" + escape(raw) + "]"


def deformat_text(text: str) -> str:
    """Plain text to stream format."""
    out: list[str] = []
    position = 0
    for match in _BREAK.finditer(text):
        out.append(escape(text[position : match.start()]))
        if "\n" in match.group(0):
            out.append(SENTENCE_MARK)
        out.append(superblank(match.group(0)))
        position = match.end()
    out.append(escape(text[position:]))
    out.append(SENTENCE_MARK)
    return "".join(out)


def deformat_html(text: str) -> str:
    """HTML to stream format; MarkupError when it is not well formed."""
    check_html(text)
    out: list[str] = []
    position = 0
    for match in _MARKUP.finditer(text):
        out.append(
            deformat_text(html.unescape(text[position : match.start()]))[: -len(SENTENCE_MARK)]
        )
        tag = _TAG.match(match.group(0))
        if tag and tag.group(2).lower() in _BLOCK and "".join(out).strip():
            out.append(SENTENCE_MARK)
        out.append(superblank(match.group(0)))
        position = match.end()
    out.append(deformat_text(html.unescape(text[position:])))
    return "".join(out)


def reformat(stream: str, *, is_html: bool) -> str:
    """Stream format back to text (or HTML): escapes undone, superblanks restored, the
    sentence markers taken out."""
    out: list[str] = []
    text: list[str] = []

    def flush_text() -> None:
        if text:
            joined = "".join(text)
            out.append(html.escape(joined, quote=False) if is_html else joined)
            text.clear()

    i, n = 0, len(stream)
    while i < n:
        ch = stream[i]
        if ch == "\\" and i + 1 < n:
            text.append(stream[i + 1])
            i += 2
        elif ch == "[":
            j, raw = i + 1, []
            while j < n and stream[j] != "]":
                if stream[j] == "\\" and j + 1 < n:
                    j += 1
                raw.append(stream[j])
                j += 1
            if not raw and text and text[-1] == ".":
                text.pop()  # the sentence marker `.[]`
            flush_text()
            out.append("".join(raw))
            i = j + 1
        else:
            text.append(ch)
            i += 1
    flush_text()
    return "".join(out)


def strip_html(text: str) -> str:
    """The text of an HTML fragment (for language detection)."""
    return html.unescape(_MARKUP.sub(" ", text))


def check_html(text: str) -> None:
    stack: list[str] = []
    position = 0
    for match in _MARKUP.finditer(text):
        _check_text(text, position, match.start())
        position = match.end()
        tag = _TAG.match(match.group(0))
        if tag is None:
            continue  # comment, doctype, processing instruction, script/style block
        closing, name, self_closing = tag.group(1), tag.group(2).lower(), tag.group(3)
        if not closing:
            if name not in _VOID and not self_closing:
                stack.append(name)
            continue
        if name in _VOID:
            continue
        while stack and stack[-1] != name and stack[-1] in _OPTIONAL_END:
            stack.pop()
        if not stack or stack[-1] != name:
            expected = f"</{stack[-1]}>" if stack else "no end tag"
            raise MarkupError(
                f"Malformed HTML: </{name}> at character {match.start()} closes no open "
                f"element (expected {expected})."
            )
        stack.pop()
    _check_text(text, position, len(text))
    unclosed = [name for name in stack if name not in _OPTIONAL_END]
    if unclosed:
        raise MarkupError(f"Malformed HTML: <{unclosed[-1]}> is never closed.")


def _check_text(text: str, start: int, end: int) -> None:
    stray = re.search(r"<[A-Za-z/!?]", text[start:end])
    if stray:
        raise MarkupError(
            f"Malformed HTML: unterminated markup at character {start + stray.start()}."
        )
