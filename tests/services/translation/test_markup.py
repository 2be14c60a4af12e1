"""The pure conversions to and from Apertium's stream format, and the HTML check."""

from __future__ import annotations

import pytest

from services.translation.backends.local import markup

TEXTS = [
    "Hello, my friend.\nHow are you?  Fine.",
    r"Specials \ [ ] ^ $ / @ < > { } stay.",
    "One",
    "",
]
HTMLS = [
    '<p>I love <b>big</b> dogs &amp; cats.</p><p>Second <a href="x">link</a></p>',
    "<ul><li>one<li>two</ul><br>x<img src=a.png/>",
    "<p>ok <script>var a = 1 < 2;</script><!-- note --></p>",
]


@pytest.mark.parametrize("text", TEXTS)
def test_text_round_trip(text):
    assert markup.reformat(markup.deformat_text(text), is_html=False) == text


@pytest.mark.parametrize("html", HTMLS)
def test_html_round_trip(html):
    assert markup.reformat(markup.deformat_html(html), is_html=True) == html


def test_markup_becomes_superblanks():
    stream = markup.deformat_html("<p>Hi <b>you</b></p>")
    assert stream.startswith("[\\<p\\>]Hi [\\<b\\>]you[\\<\\/b\\>]")


@pytest.mark.parametrize(
    ("html", "fragment"),
    [
        ("<b>open", "never closed"),
        ("<b>x</i>", "closes no open element"),
        ("<b><i>x</b></i>", "closes no open element"),
        ("x </b>", "closes no open element"),
        ("a <b x", "unterminated"),
    ],
)
def test_malformed_html(html, fragment):
    with pytest.raises(markup.MarkupError, match=fragment):
        markup.check_html(html)


def test_optional_end_tags_and_void_elements_are_well_formed():
    markup.check_html("<ul><li>a<li>b</ul><p>c<p>d<br><img src='x'><hr/>")
