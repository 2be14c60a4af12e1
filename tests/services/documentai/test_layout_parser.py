"""LAYOUT_PARSER_PROCESSOR: blocks typed by size, tables as table blocks, chunks with their
ancestor headings, through the official client."""

from __future__ import annotations

from google.cloud import documentai_v1 as documentai

from local import document_samples as samples
from tests.services.documentai.conftest import processor_name


def _layout(client, pdf: bytes, **config) -> documentai.Document:
    return client.process_document(
        request=documentai.ProcessRequest(
            name=processor_name("layout"),
            raw_document=documentai.RawDocument(content=pdf, mime_type="application/pdf"),
            process_options=documentai.ProcessOptions(
                layout_config=documentai.ProcessOptions.LayoutConfig(
                    chunking_config=documentai.ProcessOptions.LayoutConfig.ChunkingConfig(**config)
                )
            ),
        )
    ).document


def test_blocks_headings_tables_and_chunks(client):
    form = samples.invoice(61)
    doc = _layout(client, form.pdf, chunk_size=40, include_ancestor_headings=True)
    blocks = list(doc.document_layout.blocks)
    assert blocks[0].text_block.type_ == "heading-1"
    assert blocks[0].text_block.text == "INVOICE"
    (table,) = [b.table_block for b in blocks if "table_block" in b]
    header = [" ".join(x.text_block.text for x in c.blocks) for c in table.header_rows[0].cells]
    assert header == form.table[0]
    assert table.body_rows[-1].cells[0].col_span == 3
    assert all(b.page_span.page_start == 1 for b in blocks)
    chunks = list(doc.chunked_document.chunks)
    assert len(chunks) >= 2
    ids = {b.block_id for b in blocks}
    for chunk in chunks:
        assert set(chunk.source_block_ids) <= ids
        words = [w for w in chunk.content.split() if w != "|"]
        if len(chunk.source_block_ids) > 1:  # one block larger than a chunk stays whole
            assert len(words) <= 40 + 1  # the ancestor heading comes on top
    assert all(chunk.content.startswith("INVOICE") for chunk in chunks)
    assert any("| Item | Quantity | Unit price | Amount |" in c.content for c in chunks)
    assert not doc.text
    assert not doc.pages


def test_two_columns_chunk_in_reading_order(client):
    page = samples.two_columns(17)
    doc = _layout(client, page.pdf)
    (chunk,) = doc.chunked_document.chunks  # 500 words by default: one chunk
    text = chunk.content.replace("\n", " ")
    assert text.index(page.left[-1]) < text.index(page.right[0])
