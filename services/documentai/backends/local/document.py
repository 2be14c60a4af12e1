"""Pages (words, tables, fields) into a `documentai.Document` in Google's shape.

The text is the pages' lines in reading order, words joined by a space, each line ending in
"\n". Layout elements point into it with `textAnchor.textSegments` (half-open; serialised as
int64 strings, `startIndex` left out when 0, by protobuf's own JSON). As Google does, a
token's segment includes the break after it (its space, or the line's "\n"), and the
segments of a line, paragraph or block run from their first token's start to their last
token's end. Boxes are `boundingPoly.normalizedVertices` (0..1 of the page's width and
height), corners clockwise from the top-left.

Paragraphs are the layout's blocks (one paragraph per block): the local engines give no
finer paragraph structure that could be trusted.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from services.documentai.backends.local import forms, layout, tables
from services.documentai.backends.local.model import Box, PageContent, Word
from shared.gapictypes import message_types

documentai = message_types("google.cloud.documentai_v1")

Page = documentai.Document.Page
Layout = Page.Layout
Orientation = Layout.Orientation

_ORIENTATION = {
    0: Orientation.PAGE_UP,
    90: Orientation.PAGE_RIGHT,
    180: Orientation.PAGE_DOWN,
    270: Orientation.PAGE_LEFT,
}


@dataclasses.dataclass
class Analysed:
    """One page after layout: blocks in reading order, and what the form parser found."""

    content: PageContent
    blocks: list[layout.TextBlock]
    tables: list[tables.Table]
    fields: list[forms.Field]


def analyse(content: PageContent, *, form_parser: bool) -> Analysed:
    unit = content.text_height
    found = tables.find_tables(content.rules, content.words, unit) if form_parser else []
    in_table = {id(w) for t in found for cell in t.cells for w in cell.words}
    free = [w for w in content.words if id(w) not in in_table]
    items = [layout.Item(w.box, word=w) for w in free]
    items += [layout.Item(t.box, table=i) for i, t in enumerate(found)]
    blocks: list[layout.TextBlock] = []
    for group in layout.order(items, unit):
        words = [item.word for item in group if item.word is not None]
        if words:
            blocks.append(layout.TextBlock(layout.lines_of(words)))
        for item in group:
            if item.table is not None:
                for cell in found[item.table].cells:
                    if cell.words:
                        blocks.append(
                            layout.TextBlock(
                                layout.lines_of(cell.words),
                                table=item.table,
                                cell=(cell.row, cell.col),
                            )
                        )
    fields = forms.find_fields(free, content.checkboxes, unit) if form_parser else []
    return Analysed(content, blocks, found, fields)


class _Builder:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.spans: dict[int, tuple[int, int]] = {}  # id(word) -> its token's segment

    def add(self, text: str) -> tuple[int, int]:
        start = self.length
        self.parts.append(text)
        self.length += len(text)
        return start, self.length


def build(
    pages: Sequence[Analysed], *, mime_type: str, images: bool = False
) -> documentai.Document:
    builder = _Builder()
    out_pages = [_page(page, builder, images) for page in pages]
    return documentai.Document(mime_type=mime_type, text="".join(builder.parts), pages=out_pages)


def _page(page: Analysed, builder: _Builder, images: bool) -> Page:
    content = page.content
    poly = _poly_factory(content)
    orientation = _ORIENTATION.get(content.orientation, Orientation.PAGE_UP)
    page_start = builder.length
    out = Page(
        page_number=content.number,
        dimension=Page.Dimension(width=content.width, height=content.height, unit=content.unit),
        detected_languages=_languages(content.languages),
    )

    def layout_of(start: int, end: int, box: Box, confidence: float) -> Layout:
        anchor = documentai.Document.TextAnchor(
            text_segments=[
                documentai.Document.TextAnchor.TextSegment(start_index=start, end_index=end)
            ]
            if end > start
            else []
        )
        return Layout(
            text_anchor=anchor,
            confidence=confidence,
            bounding_poly=poly(box),
            orientation=orientation,
        )

    for block in page.blocks:
        block_start = builder.length
        confidences = []
        for line in block.lines:
            line_start = builder.length
            for k, word in enumerate(line.words):
                last = k == len(line.words) - 1
                start, end = builder.add(word.text + ("\n" if last else " "))
                builder.spans[id(word)] = (start, end)
                token = Page.Token(layout=layout_of(start, end, word.box, word.confidence))
                if not last:
                    token.detected_break = Page.Token.DetectedBreak(
                        type_=Page.Token.DetectedBreak.Type.SPACE
                    )
                out.tokens.append(token)
            line_conf = _mean([w.confidence for w in line.words])
            confidences.append(line_conf)
            out.lines.append(
                Page.Line(layout=layout_of(line_start, builder.length, line.box, line_conf))
            )
        block_layout = layout_of(block_start, builder.length, block.box, _mean(confidences))
        out.blocks.append(Page.Block(layout=block_layout))
        out.paragraphs.append(Page.Paragraph(layout=block_layout))

    page_box = Box(0, 0, content.width, content.height)
    out.layout = layout_of(
        page_start,
        builder.length,
        page_box,
        _mean([w.confidence for w in content.words]) if content.words else 0.0,
    )
    for table in page.tables:
        out.tables.append(_table(table, builder, layout_of))
    for field in page.fields:
        out.form_fields.append(_field(field, builder, layout_of, poly, orientation))
    if images and content.image is not None:
        out.image = _image(content.image)
    return out


def _segments(words: Sequence[Word], builder: _Builder) -> list[tuple[int, int]]:
    """The text segments of some tokens, contiguous runs joined."""
    spans = sorted(builder.spans[id(w)] for w in words if id(w) in builder.spans)
    joined: list[list[int]] = []
    for start, end in spans:
        if joined and start <= joined[-1][1]:
            joined[-1][1] = max(joined[-1][1], end)
        else:
            joined.append([start, end])
    return [(a, b) for a, b in joined]


def _anchored(words: Sequence[Word], box: Box, builder: _Builder, layout_of) -> Layout:
    result = layout_of(0, 0, box, _mean([w.confidence for w in words]) if words else 1.0)
    result.text_anchor = documentai.Document.TextAnchor(
        text_segments=[
            documentai.Document.TextAnchor.TextSegment(start_index=a, end_index=b)
            for a, b in _segments(words, builder)
        ]
    )
    return result


def _table(table: tables.Table, builder: _Builder, layout_of) -> Page.Table:
    words = [w for cell in table.cells for w in cell.words]
    out = Page.Table(layout=_anchored(words, table.box, builder, layout_of))
    rows: dict[int, list[tables.Cell]] = {}
    for cell in table.cells:
        rows.setdefault(cell.row, []).append(cell)
    for r in sorted(rows):
        row = Page.Table.TableRow(
            cells=[
                Page.Table.TableCell(
                    layout=_anchored(cell.words, cell.box, builder, layout_of),
                    row_span=cell.row_span,
                    col_span=cell.col_span,
                )
                for cell in sorted(rows[r], key=lambda c: c.col)
            ]
        )
        (out.header_rows if r < table.header_rows else out.body_rows).append(row)
    return out


def _field(field: forms.Field, builder: _Builder, layout_of, poly, orientation) -> Page.FormField:
    name_box = Box.around([w.box for w in field.name])
    out = Page.FormField(field_name=_anchored(field.name, name_box, builder, layout_of))
    if field.value:
        value_box = Box.around([w.box for w in field.value])
        out.field_value = _anchored(field.value, value_box, builder, layout_of)
    elif field.value_box is not None:
        out.field_value = Layout(
            confidence=1.0, bounding_poly=poly(field.value_box), orientation=orientation
        )
    if field.value_type:
        out.value_type = field.value_type
    return out


def _poly_factory(content: PageContent):
    width, height = content.width or 1.0, content.height or 1.0

    def poly(box: Box) -> documentai.BoundingPoly:
        def v(x: float, y: float) -> documentai.NormalizedVertex:
            return documentai.NormalizedVertex(
                x=min(max(x / width, 0.0), 1.0), y=min(max(y / height, 0.0), 1.0)
            )

        return documentai.BoundingPoly(
            normalized_vertices=[
                v(box.x0, box.y0),
                v(box.x1, box.y0),
                v(box.x1, box.y1),
                v(box.x0, box.y1),
            ]
        )

    return poly


def _languages(
    languages: list[tuple[str, float]],
) -> list[documentai.Document.Page.DetectedLanguage]:
    return [
        Page.DetectedLanguage(language_code=code, confidence=confidence)
        for code, confidence in languages
    ]


def _image(image) -> Page.Image:
    import io

    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    width, height = image.size
    return Page.Image(content=buffer.getvalue(), mime_type="image/png", width=width, height=height)


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0
