"""`process` through the official client over REST: invoices made by the tests (form fields,
check boxes, a ruled table with a spanning cell), a two-column page, scans of the invoices
(turned, noisy), text anchors, page selection, raw / inline / Cloud Storage documents."""

from __future__ import annotations

import pytest
from google.cloud import documentai_v1 as documentai

from local import document_samples as samples
from tests.services.documentai.conftest import processor_name, text_of

PDF = "application/pdf"


def _process(client, content: bytes, mime_type: str = PDF, processor: str = "form", **extra):
    return client.process_document(
        request=documentai.ProcessRequest(
            name=processor_name(processor),
            raw_document=documentai.RawDocument(content=content, mime_type=mime_type),
            **extra,
        )
    ).document


def _fields(doc: documentai.Document) -> dict[str, str]:
    return {
        text_of(doc, f.field_name).strip(): text_of(doc, f.field_value).strip()
        for page in doc.pages
        for f in page.form_fields
        if not f.value_type
    }


def _checkboxes(doc: documentai.Document) -> dict[str, bool]:
    return {
        text_of(doc, f.field_name).strip(): f.value_type == "filled_checkbox"
        for page in doc.pages
        for f in page.form_fields
        if f.value_type
    }


def _table(doc: documentai.Document) -> tuple[list[list[str]], dict[tuple[int, int], int]]:
    tables = [t for page in doc.pages for t in page.tables]
    assert len(tables) == 1
    rows, spans = [], {}
    for r, row in enumerate([*tables[0].header_rows, *tables[0].body_rows]):
        cells = []
        for c, cell in enumerate(row.cells):
            cells.append(text_of(doc, cell.layout).strip())
            if cell.col_span > 1:
                spans[(r, c)] = cell.col_span
        rows.append(cells)
    return rows, spans


def _found_share(expected: dict, found: dict) -> float:
    return sum(found.get(k) == v for k, v in expected.items()) / len(expected)


def test_every_field_cell_and_check_box_of_a_born_digital_invoice(client, invoices):
    for form in invoices:
        doc = _process(client, form.pdf)
        assert _fields(doc) == form.fields
        assert _checkboxes(doc) == form.checkboxes
        rows, spans = _table(doc)
        assert rows == form.table
        assert spans == form.spans
        table = doc.pages[0].tables[0]
        assert len(table.header_rows) == 1
        assert len(table.body_rows) == len(form.table) - 1


def test_scans_give_at_least_95_percent_of_pairs_and_cells(client, invoices, scans):
    expected_pairs = found_pairs = 0
    expected_cells = found_cells = 0
    for form, png in zip(invoices, scans, strict=True):
        doc = _process(client, png, "image/png")
        assert _checkboxes(doc) == form.checkboxes
        fields = _fields(doc)
        expected_pairs += len(form.fields)
        found_pairs += sum(fields.get(k) == v for k, v in form.fields.items())
        rows, _ = _table(doc)
        truth = [cell for row in form.table for cell in row]
        got = [cell for row in rows for cell in row]
        expected_cells += len(truth)
        found_cells += sum(1 for cell in truth if cell in got)
    assert found_pairs / expected_pairs >= 0.95, (found_pairs, expected_pairs)
    assert found_cells / expected_cells >= 0.95, (found_cells, expected_cells)


def test_a_scanned_pdf_is_read_like_the_scan(client, invoices, scans):
    doc = _process(client, samples.as_pdf(scans[0]))
    assert _found_share(invoices[0].fields, _fields(doc)) >= 0.8
    page = doc.pages[0]
    assert page.dimension.unit == "pixels"
    assert 0.5 < page.layout.confidence <= 1.0


def test_two_columns_are_read_column_by_column(client):
    for seed in (5, 8):
        page = samples.two_columns(seed)
        doc = _process(client, page.pdf, processor="ocr")
        lines = [line for line in doc.text.splitlines() if line]
        assert lines == [page.title, *page.left, *page.right]


def test_every_text_anchor_slices_its_own_characters(client, invoices):
    doc = _process(client, invoices[0].pdf)
    text = doc.text
    page = doc.pages[0]
    words = text.split()
    assert len(page.tokens) == len(words)
    previous_end = 0
    for token, word in zip(page.tokens, words, strict=True):
        (segment,) = token.layout.text_anchor.text_segments
        start, end = int(segment.start_index), int(segment.end_index)
        assert start == previous_end  # tokens tile the text: each one's break is its own
        assert text[start:end].rstrip() == word
        assert text[start:end] in (word + " ", word + "\n")
        if text[start:end].endswith(" "):
            assert (
                token.detected_break.type_
                == documentai.Document.Page.Token.DetectedBreak.Type.SPACE
            )
        previous_end = end
    for line in page.lines:
        assert text_of(doc, line.layout).endswith("\n")
        assert "\n" not in text_of(doc, line.layout)[:-1]
    for vertex in page.tokens[0].layout.bounding_poly.normalized_vertices:
        assert 0 <= vertex.x <= 1
        assert 0 <= vertex.y <= 1


def test_int64_offsets_are_strings_and_zero_start_is_left_out(docai_service, invoices):
    import base64
    import json
    import urllib.request

    body = json.dumps(
        {"rawDocument": {"content": base64.b64encode(invoices[0].pdf).decode(), "mimeType": PDF}}
    ).encode()
    request = urllib.request.Request(
        f"{docai_service.url}/v1/{processor_name('ocr')}:process",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        document = json.load(response)["document"]
    first = document["pages"][0]["tokens"][0]["layout"]["textAnchor"]["textSegments"][0]
    assert "startIndex" not in first
    assert isinstance(first["endIndex"], str)
    second = document["pages"][0]["tokens"][1]["layout"]["textAnchor"]["textSegments"][0]
    assert isinstance(second["startIndex"], str)
    assert document["pages"][0]["layout"]["orientation"] == "PAGE_UP"
    assert document["pages"][0]["dimension"]["unit"] == "points"


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"individual_page_selector": {"pages": [2, 5]}}, [2, 5]),
        ({"from_start": 2}, [1, 2]),
        ({"from_end": 3}, [4, 5, 6]),
        ({"from_end": 30}, [1, 2, 3, 4, 5, 6]),
    ],
)
def test_page_selection_returns_the_chosen_pages(client, options, expected):
    pdf, texts = samples.pages_pdf(6, seed=len(expected))
    doc = _process(
        client, pdf, processor="ocr", process_options=documentai.ProcessOptions(**options)
    )
    assert [p.page_number for p in doc.pages] == expected
    assert doc.text.splitlines() == [texts[n - 1] for n in expected]


def test_page_selection_picks_15_of_a_longer_document(client):
    pdf, _texts = samples.pages_pdf(20)
    doc = _process(
        client, pdf, processor="ocr", process_options=documentai.ProcessOptions(from_start=15)
    )
    assert len(doc.pages) == 15


def test_imageless_mode_reads_30_pages(client):
    pdf, _ = samples.pages_pdf(30)
    doc = _process(client, pdf, processor="ocr", imageless_mode=True)
    assert len(doc.pages) == 30


def test_inline_and_cloud_storage_documents(client, invoices, gcs):
    form = invoices[1]
    bucket = gcs.lookup_bucket("docai-inputs") or gcs.create_bucket("docai-inputs")
    bucket.blob("invoice.pdf").upload_from_string(form.pdf, content_type=PDF)
    inline = client.process_document(
        request=documentai.ProcessRequest(
            name=processor_name(),
            inline_document=documentai.Document(content=form.pdf, mime_type=PDF),
        )
    ).document
    stored = client.process_document(
        request=documentai.ProcessRequest(
            name=processor_name(),
            gcs_document=documentai.GcsDocument(
                gcs_uri="gs://docai-inputs/invoice.pdf", mime_type=PDF
            ),
        )
    ).document
    assert _fields(inline) == _fields(stored) == form.fields


def test_the_processor_version_form_and_a_field_mask(client, invoices):
    response = client.process_document(
        request=documentai.ProcessRequest(
            name=processor_name() + "/processorVersions/pretrained",
            raw_document=documentai.RawDocument(content=invoices[0].pdf, mime_type=PDF),
            field_mask={"paths": ["text", "pages.page_number"]},
        )
    )
    doc = response.document
    assert doc.text
    assert [p.page_number for p in doc.pages] == [1]
    assert not doc.pages[0].tokens
    assert not doc.pages[0].form_fields


def test_the_ocr_processor_gives_no_form_fields(client, invoices):
    doc = _process(client, invoices[0].pdf, processor="ocr")
    assert doc.text
    assert not doc.pages[0].form_fields
    assert not doc.pages[0].tables


@pytest.mark.parametrize("turn", [90, 180, 270])
def test_a_page_scanned_on_its_side_or_upside_down_reads_in_order(client, invoices, turn):
    import io

    from PIL import Image

    form = invoices[2]
    image = Image.open(io.BytesIO(samples.scan(form.pdf, seed=turn, angle=1.0)))
    buffer = io.BytesIO()
    image.rotate(turn, expand=True, fillcolor=255).save(buffer, format="PNG")
    doc = _process(client, buffer.getvalue(), "image/png")
    orientation = documentai.Document.Page.Layout.Orientation
    # Text turned counter-clockwise by `turn` reads after turning the head to the left.
    expected = {90: orientation.PAGE_LEFT, 180: orientation.PAGE_DOWN, 270: orientation.PAGE_RIGHT}
    assert doc.pages[0].layout.orientation == expected[turn]
    assert doc.text.startswith("INVOICE\n")
    assert _found_share(form.fields, _fields(doc)) >= 0.8


@pytest.mark.parametrize("kind", ["JPEG", "TIFF", "GIF", "BMP", "WEBP"])
def test_every_image_type_google_reads(client, kind):
    import io

    from PIL import Image

    pdf, texts = samples.pages_pdf(2, seed=3)
    images = [Image.open(io.BytesIO(samples.scan(pdf, seed=1, angle=0.0)))]
    buffer = io.BytesIO()
    if kind == "TIFF":
        import pypdfium2

        document = pypdfium2.PdfDocument(pdf)
        pages = [document[i].render(scale=300 / 72).to_pil().convert("L") for i in range(2)]
        document.close()
        pages[0].save(buffer, format="TIFF", save_all=True, append_images=pages[1:])
    else:
        images[0].convert("L" if kind != "JPEG" else "RGB").save(buffer, format=kind)
    mime = {"JPEG": "image/jpeg", "TIFF": "image/tiff"}.get(kind, f"image/{kind.lower()}")
    doc = _process(client, buffer.getvalue(), mime, processor="ocr")
    expected = texts if kind == "TIFF" else texts[:1]
    assert [p.page_number for p in doc.pages] == list(range(1, len(expected) + 1))
    assert doc.text.splitlines() == expected


def test_page_images_only_when_asked_and_not_in_imageless_mode(client, scans):
    asked = _process(
        client,
        scans[0],
        "image/png",
        processor="ocr",
        field_mask={"paths": ["pages.image", "pages.page_number"]},
    )
    image = asked.pages[0].image
    assert image.mime_type == "image/png"
    assert image.content.startswith(b"\x89PNG")
    assert image.width > 1000
    assert not _process(client, scans[0], "image/png", processor="ocr").pages[0].image.content
    imageless = _process(
        client,
        scans[0],
        "image/png",
        processor="ocr",
        imageless_mode=True,
        field_mask={"paths": ["pages.image"]},
    )
    assert not imageless.pages[0].image.content
