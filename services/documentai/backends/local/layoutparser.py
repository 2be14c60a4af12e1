"""LAYOUT_PARSER_PROCESSOR: the layout the other processors find, as Google's Layout Parser
gives it: `documentLayout` (text blocks typed `heading-1`, `heading-2` or `paragraph`, ruled
tables as table blocks with their cells' blocks) and `chunkedDocument` (blocks gathered into
chunks of at most `chunkSize` words, each starting with its ancestor headings when
`includeAncestorHeadings`), with `pageSpan`s and the source block ids.

Headings are told by size alone: a block of at most two lines whose words stand at least 1.2
times (heading-2) or 1.5 times (heading-1) the page's median word height. There is no model
for lists, headers, footers or captions, so none are given (Google's parser finds them with
one); `text` and `pages` are left empty, as the Layout Parser leaves them. A block longer
than `chunkSize` (a big table) is one chunk of its own: it is not split by rows, as Google's
parser does with repeated headers.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from services.documentai.backends.local import layout as reading
from services.documentai.backends.local.document import Analysed
from shared.gapictypes import message_types

documentai = message_types("google.cloud.documentai_v1")

DocumentLayout = documentai.Document.DocumentLayout
Block = DocumentLayout.DocumentLayoutBlock
Chunk = documentai.Document.ChunkedDocument.Chunk
DEFAULT_CHUNK_SIZE = 500  # words (Google counts tokens; its default is 500)


def build(
    pages: Sequence[Analysed], mime_type: str, config: documentai.ProcessOptions.LayoutConfig
) -> documentai.Document:
    blocks: list[Block] = []
    counter = iter(range(1, 10**9))
    for page in pages:
        unit = page.content.text_height
        number = page.content.number
        emitted_tables: set[int] = set()
        for block in page.blocks:
            if block.table is not None:
                if block.table not in emitted_tables:
                    emitted_tables.add(block.table)
                    blocks.append(_table(page, block.table, number, counter))
                continue
            blocks.append(_text_block(block, unit, number, counter))
    chunking = config.chunking_config
    size = chunking.chunk_size or DEFAULT_CHUNK_SIZE
    chunks = _chunks(blocks, size, chunking.include_ancestor_headings)
    return documentai.Document(
        mime_type=mime_type,
        document_layout=DocumentLayout(blocks=blocks),
        chunked_document=documentai.Document.ChunkedDocument(chunks=chunks),
    )


def _span(number: int) -> Block.LayoutPageSpan:
    return Block.LayoutPageSpan(page_start=number, page_end=number)


def _text_of(block: reading.TextBlock) -> str:
    return " ".join(" ".join(w.text for w in line.words) for line in block.lines)


def _kind(block: reading.TextBlock, unit: float) -> str:
    if len(block.lines) > 2:
        return "paragraph"
    height = statistics.median(w.box.height for line in block.lines for w in line.words)
    if height >= 1.5 * unit:
        return "heading-1"
    if height >= 1.2 * unit:
        return "heading-2"
    return "paragraph"


def _text_block(block: reading.TextBlock, unit: float, number: int, counter) -> Block:
    return Block(
        block_id=str(next(counter)),
        page_span=_span(number),
        text_block=Block.LayoutTextBlock(text=_text_of(block), type_=_kind(block, unit)),
    )


def _table(page: Analysed, index: int, number: int, counter) -> Block:
    table = page.tables[index]
    block_id = str(next(counter))
    rows: dict[int, list] = {}
    for cell in table.cells:
        lines = reading.lines_of(cell.words)
        text = " ".join(" ".join(w.text for w in line.words) for line in lines)
        inner = []
        if text:
            inner.append(
                Block(
                    block_id=str(next(counter)),
                    page_span=_span(number),
                    text_block=Block.LayoutTextBlock(text=text, type_="paragraph"),
                )
            )
        rows.setdefault(cell.row, []).append(
            Block.LayoutTableCell(blocks=inner, row_span=cell.row_span, col_span=cell.col_span)
        )
    ordered = [Block.LayoutTableRow(cells=rows[r]) for r in sorted(rows)]
    return Block(
        block_id=block_id,
        page_span=_span(number),
        table_block=Block.LayoutTableBlock(
            header_rows=ordered[: table.header_rows], body_rows=ordered[table.header_rows :]
        ),
    )


def _render(block: Block) -> str:
    if "table_block" in block:
        lines = []
        for row in [*block.table_block.header_rows, *block.table_block.body_rows]:
            cells = [" ".join(b.text_block.text for b in cell.blocks) for cell in row.cells]
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines)
    return block.text_block.text


def _chunks(blocks: list[Block], size: int, ancestors: bool) -> list[Chunk]:
    chunks: list[Chunk] = []
    headings: dict[int, str] = {}
    current: list[Block] = []
    words = 0

    def close() -> None:
        nonlocal current, words
        if not current:
            return
        parts = [_render(b) for b in current]
        if ancestors:
            first_level = _level(current[0])
            above = [
                t
                for level, t in sorted(headings.items())
                if first_level is None or level < first_level
            ]
            parts = [*above, *parts]
        starts = [b.page_span.page_start for b in current]
        ends = [b.page_span.page_end for b in current]
        chunks.append(
            Chunk(
                chunk_id=f"c{len(chunks) + 1}",
                source_block_ids=[b.block_id for b in current],
                content="\n".join(p for p in parts if p),
                page_span=documentai.Document.ChunkedDocument.Chunk.ChunkPageSpan(
                    page_start=min(starts), page_end=max(ends)
                ),
            )
        )
        current, words = [], 0

    for block in blocks:
        level = _level(block)
        count = len([w for w in _render(block).split() if w != "|"])
        if level is not None or (current and words + count > size):
            close()
        if level is not None:
            headings = {k: v for k, v in headings.items() if k < level}
            headings[level] = block.text_block.text
        current.append(block)
        words += count
    close()
    return chunks


def _level(block: Block) -> int | None:
    if "text_block" in block and block.text_block.type_.startswith("heading-"):
        return int(block.text_block.type_.rsplit("-", 1)[1])
    return None
